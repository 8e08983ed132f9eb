//! The two delivery channels of the Notification Service.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A delivery channel, as named in events, the subscriber API and the
/// delivery log (`"email"`, `"push"`).
///
/// One enum for all of them so a misspelt channel cannot slip into a key or
/// a log row: anything else is rejected at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail through the configured HTTP relay.
    Email,
    /// Push through FCM HTTP v1, one delivery per registered device token.
    Push,
}

impl Channel {
    /// All channels, in a stable order: the default when a subscriber or an
    /// event names none.
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Push];

    /// The wire name (`"email"` / `"push"`), used in SQL rows and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Push => "push",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a channel name that is neither `email` nor `push`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?} (expected \"email\" or \"push\")")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    /// Exact, case-sensitive match: the contract spells channels in lower case
    /// and a lenient parse would let two spellings of one key coexist.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "email" => Ok(Channel::Email),
            "push" => Ok(Channel::Push),
            other => Err(UnknownChannel(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_wire_names() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
    }

    #[test]
    fn rejects_other_spellings() {
        assert!("Email".parse::<Channel>().is_err());
        assert!("sms".parse::<Channel>().is_err());
        assert!(serde_json::from_str::<Channel>("\"sms\"").is_err());
    }
}

//! One list per closed set of wire names (a table's CHECK values, a reason
//! code): the enum, its text form both ways and its serde form all come
//! from it, so a name cannot be spelled two ways.

use std::fmt;

/// A name read from a row, a body or a variable that its set does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What the name was meant to be (`"channel"`, `"delivery status"`).
    pub kind: &'static str,
    /// The names the set holds.
    pub expected: &'static [&'static str],
    /// What was read.
    pub value: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?} (expected ", self.kind, self.value)?;
        for (i, name) in self.expected.iter().enumerate() {
            let sep = match i {
                0 => "",
                _ if i + 1 == self.expected.len() => " or ",
                _ => ", ",
            };
            write!(f, "{sep}{name:?}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownName {}

/// The value whose name is `text` (the one lookup every list shares, so a
/// list adds no matching code of its own).
#[doc(hidden)]
pub fn find<T: Copy>(
    text: &str,
    kind: &'static str,
    names: &'static [&'static str],
    values: &[T],
) -> Result<T, UnknownName> {
    names
        .iter()
        .position(|name| *name == text)
        .and_then(|at| values.get(at).copied())
        .ok_or_else(|| UnknownName {
            kind,
            expected: names,
            value: text.to_owned(),
        })
}

/// Declares a closed set of wire names as an enum with `ALL`, `NAMES`,
/// `as_str`, `Display`, `FromStr` (an [`UnknownName`] for anything else,
/// case-sensitive: the contract spells every name in lower case) and serde
/// through the same names.
#[macro_export]
macro_rules! wire_names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order the list declares them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every wire name, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The wire name, as rows, bodies, logs and labels spell it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::wire::find(s, $kind, $name::NAMES, $name::ALL)
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::string::String>::deserialize(d)?;
                text.parse().map_err(<D::Error as $crate::__serde::de::Error>::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests;

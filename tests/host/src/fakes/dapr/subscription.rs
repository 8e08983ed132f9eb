//! Programmatic subscriptions (`GET /dapr/subscribe`), parsed as daprd does:
//! a JSON array of `{pubsubname, topic, route | routes, deadLetterTopic?,
//! metadata?, bulkSubscribe?}`. Field names are case-sensitive (Dapr docs);
//! `metadata` values must be strings.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;

/// One routing rule of the v2 `routes` shape.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RouteRule {
    /// CEL expression over the event (`event.type == "..."`).
    #[serde(rename = "match", default)]
    pub match_expr: String,
    /// Path to deliver matching events to.
    pub path: String,
}

/// The v2 `routes` object: rules tried in order, then the default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Routes {
    /// Rules, first match wins.
    #[serde(default)]
    pub rules: Vec<RouteRule>,
    /// Path for events no rule matches.
    #[serde(default)]
    pub default: Option<String>,
}

/// One subscription the app declared.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subscription {
    /// Pub/sub component name.
    pub pubsubname: String,
    /// Topic name.
    pub topic: String,
    /// v1 shape: the one route events are POSTed to.
    #[serde(default)]
    pub route: Option<String>,
    /// v2 shape: rules and default path.
    #[serde(default)]
    pub routes: Option<Routes>,
    /// Where undeliverable messages go.
    #[serde(rename = "deadLetterTopic", default)]
    pub dead_letter_topic: Option<String>,
    /// Subscription metadata (string values only, as daprd requires).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// `bulkSubscribe` options, if any.
    #[serde(rename = "bulkSubscribe", default)]
    pub bulk_subscribe: Option<serde_json::Value>,
}

impl Subscription {
    /// The path an event of this CloudEvent `type` is delivered to: the first
    /// rule whose `event.type == "..."` matches, else `routes.default`, else
    /// `route`. Rules with other CEL expressions are not supported (error).
    pub fn path_for(&self, event_type: &str) -> anyhow::Result<String> {
        if let Some(routes) = &self.routes {
            for rule in &routes.rules {
                let wanted = parse_type_match(&rule.match_expr).ok_or_else(|| {
                    anyhow!(
                        "unsupported CEL match {:?} (only event.type == \"...\")",
                        rule.match_expr
                    )
                })?;
                if wanted == event_type {
                    return Ok(rule.path.clone());
                }
            }
            if let Some(default) = &routes.default {
                return Ok(default.clone());
            }
        }
        self.route.clone().ok_or_else(|| {
            anyhow!(
                "subscription to {} has no route for {event_type}",
                self.topic
            )
        })
    }
}

fn parse_type_match(expr: &str) -> Option<&str> {
    let rest = expr.trim().strip_prefix("event.type")?.trim_start();
    let rest = rest.strip_prefix("==")?.trim();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    rest.strip_prefix(quote)?.strip_suffix(quote)
}

/// Parses the answer body of `GET /dapr/subscribe`.
pub(crate) fn parse_subscriptions(body: &[u8]) -> anyhow::Result<Vec<Subscription>> {
    let subs: Vec<Subscription> = serde_json::from_slice(body).with_context(|| {
        format!(
            "/dapr/subscribe did not answer a subscription array: {}",
            String::from_utf8_lossy(body)
        )
    })?;
    for sub in &subs {
        if sub.pubsubname.is_empty() || sub.topic.is_empty() {
            bail!("subscription with empty pubsubname or topic: {sub:?}");
        }
        if sub.route.is_none() && sub.routes.is_none() {
            bail!("subscription to {} has neither route nor routes", sub.topic);
        }
    }
    Ok(subs)
}

//! The live view's notice: what bayes publishes on `<prefix>:applied` once
//! a batch is applied (from inside the apply script), and what the api
//! reads to tell open dashboards which models changed. One type both
//! services build and parse, so the two cannot drift.

use serde::{Deserialize, Serialize};

/// Most model names one notice (and one live event) carries; past it,
/// `more` says some were left out and the page reads everything.
pub const MAX_NOTICE_MODELS: usize = 64;

/// `{"partition": 0, "models": ["a", "b"], "more": false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The partition the batch was applied to.
    pub partition: u32,
    /// The models it changed, sorted, at most [`MAX_NOTICE_MODELS`].
    pub models: Vec<String>,
    /// Whether it changed more models than are named.
    pub more: bool,
    /// The experiments whose decision changed (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<String>,
}

impl Notice {
    /// The notice of a batch of `partition` that changed `models` (in any
    /// order, repeats allowed), bounded.
    #[must_use]
    pub fn of<'a>(partition: u32, models: impl IntoIterator<Item = &'a str>) -> Self {
        let mut models: Vec<&str> = models.into_iter().collect();
        models.sort_unstable();
        models.dedup();
        let more = models.len() > MAX_NOTICE_MODELS;
        models.truncate(MAX_NOTICE_MODELS);
        Self {
            partition,
            models: models.into_iter().map(str::to_owned).collect(),
            more,
            experiments: Vec::new(),
        }
    }

    /// The notice of a change of `experiment`'s decision.
    #[must_use]
    pub fn of_experiment(partition: u32, experiment: &str) -> Self {
        Self {
            partition,
            models: Vec::new(),
            more: false,
            experiments: vec![experiment.to_owned()],
        }
    }

    /// As JSON, for `PUBLISH`.
    #[must_use]
    pub fn to_json(&self) -> String {
        // A struct of a number, strings and a bool always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a notice; `None` for anything else on the channel.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_bounded_sorted_and_reads_back() {
        let names: Vec<String> = (0..70).rev().map(|i| format!("m{i:02}")).collect();
        let notice = Notice::of(3, names.iter().map(String::as_str).chain(["m00"]));
        assert_eq!(notice.models.len(), MAX_NOTICE_MODELS);
        assert_eq!(notice.models[0], "m00");
        assert!(notice.more);
        assert_eq!(Notice::parse(&notice.to_json()), Some(notice));
        let small = Notice::of(0, ["b", "a", "b"]);
        assert_eq!(
            small.to_json(),
            r#"{"partition":0,"models":["a","b"],"more":false}"#
        );
        assert_eq!(Notice::parse("not json"), None);
    }
}

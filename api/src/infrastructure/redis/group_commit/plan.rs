//! How a group of requests becomes the entries of one write.

use super::{Payload, Request};
use crate::application::Guard;
use std::collections::HashMap;

/// One entry of a write.
pub(super) enum Entry<'a> {
    /// A model's run of observations.
    Trials(&'a str, String),
    /// One request's observations under an Idempotency-Key: an entry of
    /// its own, which the write skips if the key is recorded already.
    Guarded(&'a str, &'a str, &'a Guard),
    /// A definition or deletion, with its fields.
    Event(&'a [(&'static str, String)]),
}

/// The entries a group is written as, and where each request landed in
/// them: (entry, index of its first trial). One entry per model's run of
/// observations, in the order models first appear; a definition or deletion
/// is an entry of its own and closes its model's run, so events keep the
/// order in which they were accepted; so is a request with an
/// Idempotency-Key, so that a retry can be skipped whole.
pub(super) fn plan(group: &[Request]) -> (Vec<Entry<'_>>, Vec<(usize, u64)>) {
    let mut entries = Vec::new();
    // The entry holding each model's open run of observations.
    let mut open: HashMap<&str, usize> = HashMap::new();
    let mut placed = Vec::with_capacity(group.len());
    for request in group {
        let model = request.model.as_str();
        match &request.payload {
            Payload::Guarded(trials, guard) => {
                open.remove(model);
                entries.push(Entry::Guarded(model, trials, guard));
                placed.push((entries.len() - 1, 0));
            }
            Payload::Trials(trials) => {
                let at = *open.entry(model).or_insert_with(|| {
                    entries.push(Entry::Trials(model, String::new()));
                    entries.len() - 1
                });
                if let Entry::Trials(_, run) = &mut entries[at] {
                    placed.push((at, run.len() as u64));
                    run.push_str(trials);
                }
            }
            Payload::Event(fields) => {
                open.remove(model);
                entries.push(Entry::Event(fields));
                placed.push((entries.len() - 1, 0));
            }
        }
    }
    (entries, placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    use platform::log_entry::deletion_fields;
    use tokio::sync::oneshot;

    fn request(model: &str, payload: Payload) -> Request {
        Request {
            model: model.to_owned(),
            payload,
            reply: oneshot::channel().0,
        }
    }

    fn trials(model: &str, trials: &str) -> Request {
        request(model, Payload::Trials(trials.to_owned()))
    }

    fn shown(entries: &[Entry<'_>]) -> Vec<String> {
        entries
            .iter()
            .map(|entry| match entry {
                Entry::Trials(model, trials) => format!("{model}:{trials}"),
                Entry::Guarded(model, trials, guard) => {
                    format!("{model}:{trials}@{}", guard.key.as_str())
                }
                Entry::Event(fields) => format!("{}:{}", fields[0].1, fields[1].1),
            })
            .collect()
    }

    #[test]
    fn observations_of_a_model_share_one_entry() {
        let group = [trials("a", "w"), trials("b", "ll"), trials("a", "lw")];
        let (entries, placed) = plan(&group);
        assert_eq!(shown(&entries), ["a:wlw", "b:ll"]);
        assert_eq!(placed, [(0, 0), (1, 0), (0, 1)]);
    }

    #[test]
    fn a_definition_or_deletion_keeps_its_place_between_observations() {
        let group = [
            trials("a", "w"),
            request("a", Payload::Event(deletion_fields("a"))),
            trials("a", "l"),
            trials("b", "w"),
            trials("a", "w"),
        ];
        let (entries, placed) = plan(&group);
        assert_eq!(shown(&entries), ["a:w", "a:delete", "a:lw", "b:w"]);
        assert_eq!(placed, [(0, 0), (1, 0), (2, 0), (3, 0), (2, 1)]);
    }

    #[test]
    fn a_request_with_an_idempotency_key_is_an_entry_of_its_own() {
        let key = crate::application::IdempotencyKey::parse(b"k1").unwrap();
        let guard = Guard::new(key, &[domain::Observation::Win]);
        let group = [
            trials("a", "l"),
            request("a", Payload::Guarded("w".into(), guard)),
            trials("a", "l"),
        ];
        let (entries, placed) = plan(&group);
        assert_eq!(shown(&entries), ["a:l", "a:w@k1", "a:l"]);
        assert_eq!(placed, [(0, 0), (1, 0), (2, 0)]);
    }
}

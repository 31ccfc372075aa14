//! How a group of requests becomes the entries of one write.

use super::{Payload, Request};
use crate::application::Guard;
use std::collections::HashMap;

/// One entry of a write.
pub(super) enum Entry<'a> {
    /// Runs of observations of one or more models, each model once: one
    /// entry (`trials:<model>` fields; one run in the one-model shape).
    Runs(Vec<(&'a str, String)>),
    /// One request's observations under an Idempotency-Key: an entry of
    /// its own, which the write skips if the key is recorded already.
    Guarded(&'a str, &'a str, &'a Guard),
    /// A definition or deletion, with its fields.
    Event(&'a [(&'static str, String)]),
}

/// The entries a group is written as, and where each request landed in
/// them: (entry, index of its first trial among its model's trials there).
/// Observations go into one entry of runs, a run per model, until a
/// definition, deletion or keyed request of a model closes that model's
/// run: its later observations go into the next entry of runs, after it.
/// So each model's events keep the order in which they were accepted, a
/// keyed request can be skipped whole, and a write of many models' plain
/// observations is one entry (one `XADD`).
pub(super) fn plan(group: &[Request]) -> (Vec<Entry<'_>>, Vec<(usize, u64)>) {
    let mut entries = Vec::new();
    // The latest entry of runs, which models without a closed run may join.
    let mut runs_entry: Option<usize> = None;
    // Each model's open run: (entry, run).
    let mut open: HashMap<&str, (usize, usize)> = HashMap::new();
    // Each model's latest entry of its own (event or keyed request).
    let mut barrier: HashMap<&str, usize> = HashMap::new();
    let mut placed = Vec::with_capacity(group.len());
    for request in group {
        let model = request.model.as_str();
        match &request.payload {
            Payload::Trials(trials) => {
                let (at, run) = *open.entry(model).or_insert_with(|| {
                    let joinable = runs_entry
                        .filter(|at| barrier.get(model).is_none_or(|barrier| barrier < at));
                    let at = joinable.unwrap_or_else(|| {
                        entries.push(Entry::Runs(Vec::new()));
                        runs_entry = Some(entries.len() - 1);
                        entries.len() - 1
                    });
                    let Entry::Runs(runs) = &mut entries[at] else {
                        unreachable!("runs_entry is an entry of runs")
                    };
                    runs.push((model, String::new()));
                    (at, runs.len() - 1)
                });
                if let Entry::Runs(runs) = &mut entries[at] {
                    placed.push((at, runs[run].1.len() as u64));
                    runs[run].1.push_str(trials);
                }
            }
            Payload::Guarded(trials, guard) => {
                open.remove(model);
                entries.push(Entry::Guarded(model, trials, guard));
                barrier.insert(model, entries.len() - 1);
                placed.push((entries.len() - 1, 0));
            }
            Payload::Event(fields) => {
                open.remove(model);
                entries.push(Entry::Event(fields));
                barrier.insert(model, entries.len() - 1);
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
                Entry::Runs(runs) => runs
                    .iter()
                    .map(|(model, trials)| format!("{model}:{trials}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                Entry::Guarded(model, trials, guard) => {
                    format!("{model}:{trials}@{}", guard.key.as_str())
                }
                Entry::Event(fields) => format!("{}:{}", fields[0].1, fields[1].1),
            })
            .collect()
    }

    #[test]
    fn observations_of_every_model_share_one_entry() {
        let group = [trials("a", "w"), trials("b", "ll"), trials("a", "lw")];
        let (entries, placed) = plan(&group);
        assert_eq!(shown(&entries), ["a:wlw b:ll"]);
        assert_eq!(placed, [(0, 0), (0, 0), (0, 1)]);
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
        assert_eq!(shown(&entries), ["a:w", "a:delete", "a:lw b:w"]);
        assert_eq!(placed, [(0, 0), (1, 0), (2, 0), (2, 0), (2, 1)]);
    }

    #[test]
    fn a_request_with_an_idempotency_key_is_an_entry_of_its_own() {
        let key = crate::application::IdempotencyKey::parse(b"k1").unwrap();
        let guard = Guard::new(key, &[domain::Observation::Win]);
        let group = [
            trials("a", "l"),
            request("a", Payload::Guarded("w".into(), guard)),
            trials("b", "w"),
            trials("a", "l"),
        ];
        let (entries, placed) = plan(&group);
        // b joins the first entry of runs: nothing of b came between.
        assert_eq!(shown(&entries), ["a:l b:w", "a:w@k1", "a:l"]);
        assert_eq!(placed, [(0, 0), (1, 0), (0, 0), (2, 0)]);
    }
}

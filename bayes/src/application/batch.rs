//! Turning stream entries into what the apply step needs: the ids of wins,
//! of losses, and the entries to set aside with their reason.

use domain::Observation;

/// A field/value pair of a stream entry, as stored.
pub type Field = (Vec<u8>, Vec<u8>);

/// One entry of the event log as read: its id and its field/value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The stream id, `<milliseconds>-<sequence>`.
    pub id: String,
    /// Field/value pairs, as stored.
    pub fields: Vec<Field>,
}

/// An entry that is not an observation, to be acknowledged and dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadEntry {
    /// Its stream id.
    pub id: String,
    /// Why it was rejected.
    pub reason: String,
    /// Its fields, printed for a person to inspect (shortened if huge).
    pub raw: String,
}

/// A decoded batch. Applying it acknowledges every id; only the ids whose
/// acknowledgement succeeds are counted (see the repository's apply step).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyBatch {
    /// Ids of `w` entries.
    pub wins: Vec<String>,
    /// Ids of `l` entries.
    pub losses: Vec<String>,
    /// Entries that are not observations.
    pub dead: Vec<DeadEntry>,
}

/// The field that carries the observation.
pub const TRIAL_FIELD: &[u8] = b"trial";

/// Longest rendering of a rejected entry kept in the dead-letter stream.
const MAX_RAW_CHARS: usize = 256;

impl ApplyBatch {
    /// Sorts entries into wins, losses and dead letters.
    #[must_use]
    pub fn decode(entries: Vec<StreamEntry>) -> Self {
        let mut batch = Self {
            wins: Vec::with_capacity(entries.len()),
            ..Self::default()
        };
        for entry in entries {
            match trial_of(&entry) {
                Ok(Observation::Win) => batch.wins.push(entry.id),
                Ok(Observation::Loss) => batch.losses.push(entry.id),
                Err(reason) => {
                    let raw = render(&entry.fields);
                    batch.dead.push(DeadEntry {
                        id: entry.id,
                        reason,
                        raw,
                    });
                }
            }
        }
        batch
    }

    /// Number of entries in the batch.
    #[must_use]
    pub fn len(&self) -> usize {
        self.wins.len() + self.losses.len() + self.dead.len()
    }

    /// Whether there is nothing to apply.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All ids in the batch.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.wins
            .iter()
            .chain(&self.losses)
            .map(String::as_str)
            .chain(self.dead.iter().map(|d| d.id.as_str()))
    }
}

/// The observation in an entry: exactly one `trial` field holding `w` or `l`.
fn trial_of(entry: &StreamEntry) -> Result<Observation, String> {
    let mut trials = entry
        .fields
        .iter()
        .filter(|(field, _)| field == TRIAL_FIELD);
    match (trials.next(), trials.next()) {
        (Some((_, value)), None) => Observation::parse_bytes(value).map_err(|e| e.to_string()),
        (None, _) => Err("no \"trial\" field".to_owned()),
        (Some(_), Some(_)) => Err("more than one \"trial\" field".to_owned()),
    }
}

/// `field=value field=value`, lossy for non-UTF-8, cut to a readable length.
fn render(fields: &[Field]) -> String {
    let text = fields
        .iter()
        .map(|(f, v)| {
            format!(
                "{}={}",
                String::from_utf8_lossy(f),
                String::from_utf8_lossy(v)
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    shorten(text)
}

/// A payload as text a person can read in the dead-letter stream: lossy for
/// non-UTF-8, cut to a readable length.
#[must_use]
pub fn printable(payload: &[u8]) -> String {
    shorten(String::from_utf8_lossy(payload).into_owned())
}

fn shorten(text: String) -> String {
    if text.chars().count() > MAX_RAW_CHARS {
        let cut: String = text.chars().take(MAX_RAW_CHARS).collect();
        format!("{cut}… ({} bytes)", text.len())
    } else {
        text
    }
}

/// The append time of a stream id, in Unix milliseconds.
#[must_use]
pub fn id_millis(id: &str) -> Option<u64> {
    id.split_once('-').and_then(|(ms, _)| ms.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, fields: &[(&str, &[u8])]) -> StreamEntry {
        StreamEntry {
            id: id.to_owned(),
            fields: fields
                .iter()
                .map(|(f, v)| (f.as_bytes().to_vec(), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn entries_are_sorted_into_wins_losses_and_dead_letters() {
        let batch = ApplyBatch::decode(vec![
            entry("1-0", &[("trial", b"w")]),
            entry("1-1", &[("trial", b"l"), ("source", b"pubsub")]),
            entry("1-2", &[("trial", b"x")]),
            entry("1-3", &[("other", b"w")]),
            entry("1-4", &[("trial", b"w"), ("trial", b"l")]),
            entry("1-5", &[("trial", &[0xff, 0x00])]),
            entry("1-6", &[]),
        ]);
        assert_eq!(batch.wins, ["1-0"]);
        assert_eq!(batch.losses, ["1-1"]);
        let reasons: Vec<_> = batch
            .dead
            .iter()
            .map(|d| (d.id.as_str(), d.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("1-2", "invalid trial \"x\": expected \"w\" or \"l\""),
                ("1-3", "no \"trial\" field"),
                ("1-4", "more than one \"trial\" field"),
                (
                    "1-5",
                    "invalid trial: 2 bytes that are not UTF-8; expected \"w\" or \"l\""
                ),
                ("1-6", "no \"trial\" field"),
            ]
        );
        assert_eq!(batch.dead[0].raw, "trial=x");
        assert_eq!(batch.len(), 7);
        assert_eq!(batch.ids().count(), 7);
    }

    #[test]
    fn a_huge_entry_is_shortened_in_the_dead_letter() {
        let huge = vec![b'a'; 1_000_000];
        let batch = ApplyBatch::decode(vec![entry("1-0", &[("trial", &huge)])]);
        assert!(batch.dead[0].raw.len() < 400);
        assert!(batch.dead[0].raw.ends_with("(1000006 bytes)"));
    }

    proptest::proptest! {
        /// The stream-entry decoder against arbitrary bytes: it never panics,
        /// every entry lands in exactly one bucket, and only an entry with
        /// exactly one `trial` field holding `w` or `l` is counted.
        #[test]
        fn arbitrary_entries_decode_without_panic_and_only_w_l_count(
            raw in proptest::collection::vec(
                proptest::collection::vec(
                    (
                        proptest::prop_oneof![Just(b"trial".to_vec()), proptest::collection::vec(proptest::num::u8::ANY, 0..8)],
                        proptest::prop_oneof![Just(b"w".to_vec()), Just(b"l".to_vec()), proptest::collection::vec(proptest::num::u8::ANY, 0..300)],
                    ),
                    0..4,
                ),
                0..20,
            )
        ) {
            let entries: Vec<StreamEntry> = raw
                .iter()
                .enumerate()
                .map(|(i, fields)| StreamEntry { id: format!("1-{i}"), fields: fields.clone() })
                .collect();
            let batch = ApplyBatch::decode(entries);
            proptest::prop_assert_eq!(batch.len(), raw.len());
            for (i, fields) in raw.iter().enumerate() {
                let id = format!("1-{i}");
                let trials: Vec<&Vec<u8>> = fields.iter().filter(|(f, _)| f == b"trial").map(|(_, v)| v).collect();
                let expect_win = trials.len() == 1 && trials[0] == b"w";
                let expect_loss = trials.len() == 1 && trials[0] == b"l";
                proptest::prop_assert_eq!(batch.wins.contains(&id), expect_win);
                proptest::prop_assert_eq!(batch.losses.contains(&id), expect_loss);
                proptest::prop_assert_eq!(batch.dead.iter().any(|d| d.id == id), !expect_win && !expect_loss);
            }
            proptest::prop_assert!(batch.dead.iter().all(|d| d.raw.chars().count() < 400));
        }
    }

    use proptest::strategy::Just;

    #[test]
    fn stream_ids_carry_their_append_time() {
        assert_eq!(id_millis("1700000000123-7"), Some(1_700_000_000_123));
        assert_eq!(id_millis("garbage"), None);
    }
}

//! The definitions the observation route checks variants against, kept for
//! a second: without it every observation of an experiment read its hash
//! first (a Redis round trip), and the route ran at ~0.6× the model route's
//! rate. A definition changed or deleted is seen within [`FRESH`]; an
//! observation accepted meanwhile for a variant just removed is still a
//! valid observation of that model. A definition this api appended is kept
//! too, so observations sent right after the `PUT` are taken before bayes
//! has applied it.

use domain::{Experiment, ModelName};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a definition read is used.
pub(super) const FRESH: Duration = Duration::from_secs(1);

/// Most definitions kept; past it the cache starts afresh.
const MOST: usize = 100_000;

/// Definitions read in the last [`FRESH`].
#[derive(Default)]
pub(super) struct Recent {
    read: Mutex<HashMap<ModelName, (Instant, Experiment)>>,
}

impl Recent {
    /// `name`'s definition if it was read in the last [`FRESH`].
    pub(super) fn get(&self, name: &ModelName) -> Option<Experiment> {
        let read = self.read.lock().ok()?;
        let (at, experiment) = read.get(name)?;
        (at.elapsed() < FRESH).then(|| experiment.clone())
    }

    /// Keeps `experiment` as `name`'s definition, read now.
    pub(super) fn put(&self, name: &ModelName, experiment: &Experiment) {
        if let Ok(mut read) = self.read.lock() {
            if read.len() >= MOST {
                read.clear();
            }
            read.insert(name.clone(), (Instant::now(), experiment.clone()));
        }
    }
}

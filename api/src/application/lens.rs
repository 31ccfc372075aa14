//! What part of a model's evidence an answer reads: all of it, the last
//! window of log time, or all of it decayed by age. The summaries,
//! comparisons and Thompson draws are the same domain calls on the
//! evidence a lens gives.

use super::{HistoryRange, ModelStore, PortError};
use domain::{Evidence, HistoryError, ModelName, ModelState};
use platform::log_time::{Span, format_moment};
use serde::Serialize;

/// Which evidence to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lens {
    /// Every observation, as counted.
    #[default]
    All,
    /// The observations of the last window only.
    Window(Span),
    /// Every observation weighted by `2^(−age / half_life)`.
    HalfLife(Span),
}

/// Both a window and a half-life were asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "give window or half_life, not both: a window counts the recent observations fully, a half-life weighs every observation by its age"
)]
pub struct BothLenses;

impl Lens {
    /// The lens of a query's `window` and `half_life`.
    ///
    /// # Errors
    /// [`BothLenses`] when both are given.
    pub fn new(window: Option<Span>, half_life: Option<Span>) -> Result<Self, BothLenses> {
        match (window, half_life) {
            (Some(_), Some(_)) => Err(BothLenses),
            (Some(window), None) => Ok(Self::Window(window)),
            (None, Some(half_life)) => Ok(Self::HalfLife(half_life)),
            (None, None) => Ok(Self::All),
        }
    }
}

/// How an answer's evidence was read, when not all of it as counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LensReport {
    /// The window asked for, e.g. `24h`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The half-life asked for, e.g. `3d`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_life: Option<String>,
    /// With a window: the log time (Unix ms) its counts start at, an
    /// interval end at or before `as_of − window`, that edge included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// "Now" in log time (Unix ms): Redis's clock when it was read.
    pub as_of: u64,
}

/// A model's state and the evidence a lens reads of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lensed {
    /// Its counts and definition now.
    pub state: ModelState,
    /// The evidence read.
    pub evidence: Evidence,
    /// How, if not all of it.
    pub report: Option<LensReport>,
}

/// Why a lens could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum LensError {
    /// The window reaches back past what the history holds.
    #[error("the window of {window} reaches back past the history of {model}, which goes back to {}; ask for a shorter window", format_moment(*known_from))]
    BeforeHistory {
        /// The model.
        model: String,
        /// The window asked for.
        window: String,
        /// The oldest time its history knows.
        known_from: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] PortError),
}

/// `model`'s evidence under `lens`; `None` if it does not exist.
///
/// # Errors
/// [`LensError::BeforeHistory`] for a window longer than the history.
pub async fn read(
    store: &dyn ModelStore,
    model: &ModelName,
    lens: Lens,
) -> Result<Option<Lensed>, LensError> {
    read_at(store, model, lens, None).await
}

/// As [`read`], at `now` if given (several models read at one "now"; else
/// the store's clock is asked when the lens needs it).
///
/// # Errors
/// As [`read`].
pub async fn read_at(
    store: &dyn ModelStore,
    model: &ModelName,
    lens: Lens,
    now: Option<u64>,
) -> Result<Option<Lensed>, LensError> {
    let span = match lens {
        Lens::All => {
            return Ok(store.load(model).await?.map(|state| Lensed {
                state,
                evidence: state.counts.into(),
                report: None,
            }));
        }
        Lens::Window(span) | Lens::HalfLife(span) => span,
    };
    let now = match now {
        Some(now) => now,
        None => store.now().await?,
    };
    let start = now.saturating_sub(span.millis());
    let range = match lens {
        // Only the counts at the window's start are needed.
        Lens::Window(_) => HistoryRange::at(start),
        _ => HistoryRange::ALL,
    };
    let Some(stored) = store.history(model, range).await? else {
        return Ok(None);
    };
    let (evidence, report) = if let Lens::Window(_) = lens {
        let counts =
            stored
                .history
                .since(start, stored.state.counts)
                .map_err(|error| match error {
                    HistoryError::BeforeHistory { known_from } => LensError::BeforeHistory {
                        model: model.to_string(),
                        window: span.to_string(),
                        known_from,
                    },
                    HistoryError::Disordered { .. } => {
                        LensError::Store(PortError::Failed(super::Cause::new(error)))
                    }
                })?;
        let since = stored
            .history
            .points()
            .iter()
            .rev()
            .find(|p| p.t <= start)
            .map_or(stored.history.known_from(), |p| p.t);
        let window = Evidence::from(counts);
        let report = LensReport {
            window: Some(span.to_string()),
            half_life: None,
            since: Some(since),
            as_of: now,
        };
        (window, report)
    } else {
        let report = LensReport {
            window: None,
            half_life: Some(span.to_string()),
            since: None,
            as_of: now,
        };
        (stored.history.decayed(now, span.millis()), report)
    };
    Ok(Some(Lensed {
        state: stored.state,
        evidence,
        report: Some(report),
    }))
}

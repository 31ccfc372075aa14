//! What the experiment routes answer, as the use case builds it.

use crate::application::lens::LensReport;
use crate::application::{Compared, ModelWarning};
use domain::{Experiment, ExperimentKind, ExperimentLens, SampleRatio, Split};
use platform::log_time::Span;
use platform::stored_experiment::{DecisionEvent, Status, StoredExperiment};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Where an experiment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExperimentStatus {
    /// Collecting: no winner announced at its threshold.
    Running,
    /// A winner announced at its threshold.
    Decided,
    /// Stopped by hand, with a variant chosen.
    Stopped,
}

impl From<Status> for ExperimentStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Running => Self::Running,
            Status::Decided => Self::Decided,
            Status::Stopped => Self::Stopped,
        }
    }
}

/// A definition as stored, every default filled in; spans as written (`7d`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DefinitionView {
    /// `ab` or `bandit`.
    pub kind: ExperimentKind,
    /// The variants' model names, in the order given.
    pub variants: Vec<String>,
    /// The variant the others are compared with.
    pub baseline: String,
    /// The expected loss a winner may carry.
    pub threshold: f64,
    /// `ab`: each variant's share of the traffic, in the variants' order.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub weights: Option<Vec<f64>>,
    /// `bandit`: the least share of draws each arm gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub floor: Option<f64>,
    /// The evidence is read over this last window of log time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "7d")]
    pub window: Option<String>,
    /// The evidence is decayed with this half-life.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "3d")]
    pub half_life: Option<String>,
}

impl From<&Experiment> for DefinitionView {
    fn from(experiment: &Experiment) -> Self {
        let (weights, floor) = match experiment.split() {
            Split::Weights(weights) => (Some(weights.clone()), None),
            Split::Floor(floor) => (None, Some(*floor)),
        };
        let span = |ms: u64| Some(Span::from_millis(ms).to_string());
        let (window, half_life) = match experiment.lens() {
            ExperimentLens::All => (None, None),
            ExperimentLens::Window(ms) => (span(ms), None),
            ExperimentLens::HalfLife(ms) => (None, span(ms)),
        };
        Self {
            kind: experiment.kind(),
            variants: experiment
                .variants()
                .iter()
                .map(ToString::to_string)
                .collect(),
            baseline: experiment.baseline().to_string(),
            threshold: experiment.threshold(),
            weights,
            floor,
            window,
            half_life,
        }
    }
}

/// The last decision bayes announced.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Announced {
    /// The winner announced; null: none.
    pub winner: Option<String>,
    /// Its chance to be best then.
    pub p_best: Option<f64>,
    /// Its expected loss then.
    pub expected_loss: Option<f64>,
    /// Log time of the announcement (Unix ms); null before any.
    pub at: Option<u64>,
    /// Announcements so far.
    pub seq: u64,
}

/// The variant chosen by a stop, and when.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stopped {
    /// The variant chosen.
    pub variant: String,
    /// Log time of the stop (Unix ms).
    pub at: u64,
}

/// An experiment: its definition, where it stands and its comparison now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExperimentView {
    /// The experiment.
    pub name: String,
    /// Its definition.
    pub definition: DefinitionView,
    /// Running, decided or stopped.
    pub status: ExperimentStatus,
    /// The last decision announced.
    pub decision: Announced,
    /// The stop, if it was stopped.
    pub stopped: Option<Stopped>,
    /// What `GET /compare` answers for the variants (baseline first), at
    /// the experiment's threshold, through its window or half-life.
    pub comparison: Compared,
    /// `ab`: the sample-ratio-mismatch check of each variant's trials
    /// against the weights; null for a bandit.
    pub srm: Option<SampleRatio>,
    /// Log time of its definition (Unix ms).
    pub defined_at: u64,
}

impl ExperimentView {
    pub(super) fn new(
        name: String,
        stored: &StoredExperiment,
        comparison: Compared,
        srm: Option<SampleRatio>,
    ) -> Self {
        let record = &stored.record;
        Self {
            name,
            definition: DefinitionView::from(&stored.experiment),
            status: stored.status().into(),
            decision: Announced {
                winner: record.decision.clone(),
                p_best: record.p_best,
                expected_loss: record.expected_loss,
                at: (record.decided_at > 0).then_some(record.decided_at),
                seq: record.seq,
            },
            stopped: stored.stopped.as_ref().map(|(variant, at)| Stopped {
                variant: variant.clone(),
                at: *at,
            }),
            comparison,
            srm,
            defined_at: stored.defined_at,
        }
    }
}

/// The sample-ratio check, briefly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct SrmBrief {
    /// The chi-square test's p-value.
    pub p_value: f64,
    /// Whether the split is as asked.
    pub ok: bool,
}

/// An experiment as listed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ListedExperiment {
    /// The experiment.
    pub name: String,
    /// `ab` or `bandit`.
    pub kind: ExperimentKind,
    /// Running, decided or stopped.
    pub status: ExperimentStatus,
    /// Its variants, in the order given.
    pub variants: Vec<String>,
    /// The winner last announced; null: none.
    pub winner: Option<String>,
    /// The variant with the least expected loss now; null if the
    /// comparison cannot be made (a window past the history).
    pub leader: Option<String>,
    /// The leader's chance to be best now.
    pub p_best: Option<f64>,
    /// The leader's expected loss now.
    pub expected_loss: Option<f64>,
    /// `ab`: the sample-ratio check; null for a bandit.
    pub srm: Option<SrmBrief>,
}

/// How a variant was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChosenBy {
    /// A bandit's Thompson draw, with its floor, through its lens.
    Thompson,
    /// An A/B test's assignment, drawn by its weights.
    Weights,
    /// The variant the experiment was stopped with.
    Stopped,
}

/// The variant to serve next.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExperimentChoice {
    /// The variant.
    pub variant: String,
    /// How it was chosen.
    pub by: ChosenBy,
    /// How the evidence was read (Thompson, under a window or half-life).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lens: Option<LensReport>,
    /// The warnings of the variants drawn among (Thompson); empty otherwise.
    pub warnings: Vec<ModelWarning>,
}

/// One announced decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionView {
    /// Its stream id, `<log time ms>-<k>`.
    pub id: String,
    /// The experiment.
    pub experiment: String,
    /// Its number for this experiment (1, 2, …).
    pub seq: u64,
    /// The status after the change.
    pub status: ExperimentStatus,
    /// The winner before; null: none.
    pub from: Option<String>,
    /// The winner after (null: none), or the variant a stop chose.
    pub to: Option<String>,
    /// `to`'s chance to be best (null for none, and for a stop).
    pub p_best: Option<f64>,
    /// `to`'s expected loss, likewise.
    pub expected_loss: Option<f64>,
    /// Log time (Unix ms) of the counts it was computed from.
    pub at: u64,
    /// Each variant's `[w, n]` it was computed from (fractional under a half-life).
    #[schema(value_type = Object)]
    pub counts: BTreeMap<String, [f64; 2]>,
}

impl DecisionView {
    pub(super) fn new(id: String, event: DecisionEvent) -> Self {
        Self {
            id,
            experiment: event.experiment,
            seq: event.seq,
            status: event.status.into(),
            from: event.from,
            to: event.to,
            p_best: event.p_best,
            expected_loss: event.expected_loss,
            at: event.at,
            counts: event.counts.into_iter().collect(),
        }
    }
}

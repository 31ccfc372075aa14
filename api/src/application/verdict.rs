//! A comparison as the api answers it: the domain's, with the decision told
//! by name and in words. Numbers in the words are written as the
//! dashboard's table writes them (three significant digits, plain
//! decimals: [`domain::plain_decimal`]).

use domain::{Comparison, ModelComparison, Resolution};
use serde::Serialize;

/// A comparison: each model's standing and the decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Compared {
    /// Each model, in the order given; the first is the baseline.
    pub models: Vec<ModelComparison>,
    /// What to do.
    pub decision: Verdict,
    /// How the evidence was read, under a window or half-life.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lens: Option<super::lens::LensReport>,
}

/// The decision: the model with the least expected loss, and whether the
/// evidence lets it be shipped.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The risk threshold.
    pub threshold: f64,
    /// The model with the least expected loss.
    pub best: String,
    /// Its probability of being the best.
    pub p_best: f64,
    /// Its expected loss: the risk of choosing it.
    pub expected_loss: f64,
    /// The probability that two or more models share the largest value on
    /// their grids (a tie, split evenly in `p_best`); over 0.05 there is no
    /// winner: the grid is too coarse.
    pub p_tie: f64,
    /// Why there is a winner or not.
    pub resolution: Outcome,
    /// `best` once the resolution is `decided`, else null.
    pub winner: Option<String>,
    /// The decision in words.
    pub verdict: String,
}

/// Why there is a winner or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The models are told apart and the risk is under the threshold: ship.
    Decided,
    /// Told apart, but the risk is over the threshold: keep collecting.
    OverThreshold,
    /// The models tie on their grids too often to be told apart.
    GridTooCoarse,
    /// A model's posterior is pinned at its prior's edge (see its warnings).
    PinnedAtPriorEdge,
}

/// An expected loss in words, as the dashboard's table shows it.
fn risk(loss: f64) -> String {
    domain::plain_decimal(loss, 3)
}

fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// The names of `models` in words: `a`, `a and b`, `a, b and c`.
fn names<'m>(models: impl Iterator<Item = &'m str>) -> String {
    let names: Vec<&str> = models.collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl From<Comparison> for Compared {
    fn from(comparison: Comparison) -> Self {
        let decision = comparison.decision;
        let best = &comparison.models[decision.least_loss];
        let (outcome, verdict) = match &decision.resolution {
            Resolution::Decided => (
                Outcome::Decided,
                format!(
                    "{} is best with {} probability; choosing it risks {}, under {}: stop and ship {}",
                    best.name,
                    percent(best.p_best),
                    risk(decision.expected_loss),
                    decision.threshold,
                    best.name
                ),
            ),
            Resolution::OverThreshold => (
                Outcome::OverThreshold,
                format!(
                    "{} leads with {} probability to be best, but choosing it risks {}, over {}: keep collecting",
                    best.name,
                    percent(best.p_best),
                    risk(decision.expected_loss),
                    decision.threshold
                ),
            ),
            Resolution::GridTooCoarse => (
                Outcome::GridTooCoarse,
                format!(
                    "no winner: the grid is too coarse to tell {} apart (the largest value is shared \
                     on one grid point with {} probability, so P(best) is a split tie, not evidence); \
                     redefine them with more grid_points (their counts stay) and keep collecting",
                    names(comparison.models.iter().map(|m| m.name.as_str())),
                    percent(decision.p_tie)
                ),
            ),
            Resolution::PinnedAtPriorEdge { models } => {
                let pinned = names(models.iter().map(|k| comparison.models[*k].name.as_str()));
                let one = models.len() == 1;
                let tie = if decision.p_tie > domain::TIE_LIMIT {
                    format!(
                        ", and the models tie on one grid point with {} probability: the grid is \
                         too coarse to tell them apart",
                        percent(decision.p_tie)
                    )
                } else {
                    String::new()
                };
                (
                    Outcome::PinnedAtPriorEdge,
                    format!(
                        "no winner: {pinned} {} pinned at the edge of {} (see the warnings), so \
                         {}, not the data{tie}; redefine with a prior that covers \
                         the data (e.g. uniform) and keep collecting",
                        if one { "is" } else { "are" },
                        if one { "its prior" } else { "their priors" },
                        if one {
                            "its posterior shows its prior's edge"
                        } else {
                            "their posteriors show their priors' edges"
                        },
                    ),
                )
            }
        };
        Self {
            decision: Verdict {
                threshold: decision.threshold,
                best: best.name.clone(),
                p_best: best.p_best,
                expected_loss: decision.expected_loss,
                p_tie: decision.p_tie,
                resolution: outcome,
                winner: decision.winner.map(|_| best.name.clone()),
                verdict,
            },
            models: comparison.models,
            lens: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Counts, ModelDefinition};

    fn compared(w: [u64; 2], n: u64, definition: ModelDefinition) -> Compared {
        let models = [
            ("control", definition, Counts::new(w[0], n).unwrap()),
            ("variant", definition, Counts::new(w[1], n).unwrap()),
        ];
        domain::compare(&models, domain::DEFAULT_THRESHOLD)
            .unwrap()
            .into()
    }

    #[test]
    fn the_verdict_writes_the_risk_as_the_table_does() {
        assert_eq!(risk(8.2e-4), "0.000820");
        assert_eq!(risk(2.44e-5), "0.0000244");
        let uniform = domain::DefaultDefinitions::default().named;
        let verdict = compared([120, 160], 1000, uniform).decision;
        assert_eq!(verdict.resolution, Outcome::Decided);
        let shown = risk(verdict.expected_loss);
        assert!(!shown.contains('e'), "{shown}");
        assert!(
            verdict
                .verdict
                .contains(&format!("risks {shown}, under 0.0025")),
            "{}",
            verdict.verdict
        );
    }

    #[test]
    fn models_pinned_at_their_priors_edge_get_no_winner_and_are_named() {
        let verdict = compared([100, 150], 5000, ModelDefinition::default()).decision;
        assert_eq!(verdict.winner, None);
        assert_eq!(verdict.resolution, Outcome::PinnedAtPriorEdge);
        assert!(
            verdict
                .verdict
                .starts_with("no winner: control and variant are pinned"),
            "{}",
            verdict.verdict
        );
        assert!(verdict.verdict.contains("the grid is too coarse"));
        assert!(verdict.verdict.contains("keep collecting"));
        assert!(!verdict.verdict.contains("ship"));
    }

    #[test]
    fn models_tied_on_a_coarse_grid_get_no_winner() {
        let coarse = ModelDefinition {
            prior: domain::Prior::Uniform,
            grid: domain::Grid::new(120).unwrap(),
        };
        let verdict = compared([20_000, 20_100], 1_000_000, coarse).decision;
        assert_eq!(verdict.winner, None);
        assert_eq!(verdict.resolution, Outcome::GridTooCoarse);
        assert!(verdict.p_tie > domain::TIE_LIMIT);
        assert!(
            verdict
                .verdict
                .starts_with("no winner: the grid is too coarse to tell control and variant apart"),
            "{}",
            verdict.verdict
        );
        assert!(verdict.verdict.contains("keep collecting"));
    }

    #[test]
    fn names_are_listed_in_words() {
        assert_eq!(names(["a"].into_iter()), "a");
        assert_eq!(names(["a", "b", "c"].into_iter()), "a, b and c");
    }
}

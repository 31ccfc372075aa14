//! Thompson sampling: draw one grid point from each posterior and choose the
//! model that drew the largest. Model `k` is chosen with probability exactly
//! its `p_best`; an optional floor keeps every model in play.

use super::support::GridPoint;
use super::{DecisionError, check_model_count};
use crate::Posterior;
use rand::{Rng, RngExt};
use std::cmp::Ordering;

/// Draws for repeated Thompson choices among fixed posteriors: the CDFs are
/// built once, so a choice costs O(K log G).
#[derive(Debug, Clone)]
pub struct Thompson {
    /// Per model: its grid and the running sum of its probabilities.
    models: Vec<(crate::Grid, Vec<f64>)>,
    /// `K · floor`: the probability of choosing uniformly instead.
    uniform: f64,
}

impl Thompson {
    /// Prepares choices among `posteriors`, each chosen with probability at
    /// least `floor`: with probability `K · floor` a model is picked
    /// uniformly, otherwise by Thompson sampling, so model `k` is chosen with
    /// probability `K·floor/K + (1 − K·floor)·p_best[k] >= floor`.
    ///
    /// # Errors
    /// [`DecisionError::TooFewModels`] for none,
    /// [`DecisionError::TooManyModels`] above [`super::MAX_MODELS`], and
    /// [`DecisionError::Floor`] unless `0 <= floor <= 1/K`.
    pub fn new(posteriors: &[Posterior], floor: f64) -> Result<Self, DecisionError> {
        check_model_count(posteriors.len(), 1)?;
        let count = posteriors.len() as f64;
        // 1/K itself is allowed even where K · (1/K) rounds just above 1.
        if !(floor >= 0.0 && floor * count <= 1.0 + 1e-12) {
            return Err(DecisionError::Floor {
                floor,
                max: 1.0 / count,
            });
        }
        let models = posteriors
            .iter()
            .map(|posterior| {
                let cumulative = posterior
                    .probabilities()
                    .iter()
                    .scan(0.0, |running, m| {
                        *running += m;
                        Some(*running)
                    })
                    .collect();
                (posterior.grid(), cumulative)
            })
            .collect();
        Ok(Self {
            models,
            uniform: (floor * count).min(1.0),
        })
    }

    /// One choice: the index of the chosen model.
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        if self.uniform > 0.0 && rng.random::<f64>() < self.uniform {
            return rng.random_range(0..self.models.len());
        }
        let mut best: Option<(usize, GridPoint)> = None;
        let mut ties = 0_usize;
        for (model, (grid, cumulative)) in self.models.iter().enumerate() {
            let point = GridPoint::new(*grid, draw(cumulative, rng));
            let order = best.map_or(Ordering::Greater, |(_, b)| point.cmp_exact(b));
            match order {
                Ordering::Greater => (best, ties) = (Some((model, point)), 1),
                // Reservoir sampling: the i-th tied model replaces the
                // choice with probability 1/i, so each tie is equally likely.
                Ordering::Equal => {
                    ties += 1;
                    if rng.random_range(0..ties) == 0 {
                        best = Some((model, point));
                    }
                }
                Ordering::Less => {}
            }
        }
        best.map_or(0, |(model, _)| model)
    }
}

/// One Thompson choice among `posteriors` with the given `floor` (see
/// [`Thompson::new`]); for many choices among the same posteriors, build a
/// [`Thompson`] once.
///
/// # Errors
/// As [`Thompson::new`].
pub fn thompson_choice<R: Rng + ?Sized>(
    posteriors: &[Posterior],
    rng: &mut R,
    floor: f64,
) -> Result<usize, DecisionError> {
    Ok(Thompson::new(posteriors, floor)?.choose(rng))
}

/// A grid index drawn by inverse CDF; zero-probability points are never drawn.
fn draw<R: Rng + ?Sized>(cumulative: &[f64], rng: &mut R) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let u = rng.random::<f64>() * total;
    cumulative
        .partition_point(|c| *c <= u)
        .min(cumulative.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::uniform;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn floors_outside_zero_to_one_over_k_are_refused() {
        let models = [uniform(11, 1, 2), uniform(11, 1, 2), uniform(11, 1, 2)];
        for floor in [-0.1, 0.34, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Thompson::new(&models, floor),
                Err(DecisionError::Floor { .. })
            ));
        }
        assert!(Thompson::new(&models, 1.0 / 3.0).is_ok());
        assert!(matches!(
            Thompson::new(&[], 0.0),
            Err(DecisionError::TooFewModels { given: 0, min: 1 })
        ));
    }

    #[test]
    fn a_sure_tie_is_broken_evenly() {
        // All mass at p = 1 for both: every draw ties.
        let models = [uniform(3, 1000, 1000), uniform(5, 1000, 1000)];
        let thompson = Thompson::new(&models, 0.0).unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        let draws = 20_000;
        let second = (0..draws)
            .filter(|_| thompson.choose(&mut rng) == 1)
            .count();
        // 4 standard errors of a fair coin: 4 · sqrt(0.25 / 20,000) ≈ 0.014.
        assert!(
            (second as f64 / draws as f64 - 0.5).abs() < 0.015,
            "{second}"
        );
    }
}

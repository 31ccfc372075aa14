//! A model's history in log time: its cumulative counts at the end of each
//! interval in which they changed, and what follows from it — the counts at
//! any time, the counts of the last window, and the evidence decayed by age.
//!
//! A point `(t, c)` says: `c` counts every observation whose log time is
//! before `t` (an interval's end). Between points nothing changed, so the
//! counts at any `T` are those of the last point at or before `T` — exact
//! to the interval holding `T`.

use crate::{Counts, Evidence};
use serde::Serialize;

/// The cumulative counts at `t`, the end of an interval of log time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HistoryPoint {
    /// The interval's end, Unix ms.
    pub t: u64,
    /// Counts of every observation before `t`.
    pub counts: Counts,
}

/// Why a history cannot be formed or asked something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Points out of time order, or counts that shrink.
    #[error("history points must move forward in time with counts that only grow (at t = {t})")]
    Disordered {
        /// The first point out of order.
        t: u64,
    },
    /// A time before what the history holds (older points were dropped).
    #[error("the history goes back to {known_from} (Unix ms); older points were dropped")]
    BeforeHistory {
        /// The oldest time it knows.
        known_from: u64,
    },
}

/// A run of a model's history points, oldest first, with the time from
/// which it is known (0: since the model began, so before its first point
/// the counts were zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    points: Vec<HistoryPoint>,
    known_from: u64,
}

impl History {
    /// A history of `points` (oldest first; the model's latest counts last,
    /// as its open point), known from `known_from`.
    ///
    /// # Errors
    /// [`HistoryError::Disordered`] if the points do not move forward.
    pub fn new(points: Vec<HistoryPoint>, known_from: u64) -> Result<Self, HistoryError> {
        for pair in points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if b.t <= a.t || b.counts.n() < a.counts.n() || b.counts.w() < a.counts.w() {
                return Err(HistoryError::Disordered { t: b.t });
            }
        }
        Ok(Self { points, known_from })
    }

    /// Its points, oldest first.
    #[must_use]
    pub fn points(&self) -> &[HistoryPoint] {
        &self.points
    }

    /// The time from which it is known (0: always).
    #[must_use]
    pub const fn known_from(&self) -> u64 {
        self.known_from
    }

    /// The latest counts.
    #[must_use]
    pub fn latest(&self) -> Counts {
        self.points.last().map_or(Counts::ZERO, |p| p.counts)
    }

    /// The counts at log time `t`: those of the last point at or before it.
    ///
    /// # Errors
    /// [`HistoryError::BeforeHistory`] for a `t` before the history is known.
    pub fn counts_at(&self, t: u64) -> Result<Counts, HistoryError> {
        if t < self.known_from {
            return Err(HistoryError::BeforeHistory {
                known_from: self.known_from,
            });
        }
        let after = self.points.partition_point(|p| p.t <= t);
        Ok(after
            .checked_sub(1)
            .map_or(Counts::ZERO, |i| self.points[i].counts))
    }

    /// The counts of a window of log time starting at `start`: `latest`
    /// (the model's counts now; a reader may hold only part of the
    /// history) less the counts at `start`. The window starts at the last
    /// interval end at or before `start` (that edge included), so it may
    /// hold up to one interval more than asked.
    ///
    /// # Errors
    /// [`HistoryError::BeforeHistory`] when the window starts before the
    /// history is known.
    pub fn since(&self, start: u64, latest: Counts) -> Result<Counts, HistoryError> {
        let before = self.counts_at(start)?;
        // Points only grow, so the difference is never negative.
        Ok(Counts::new(latest.w() - before.w(), latest.n() - before.n()).unwrap_or(Counts::ZERO))
    }

    /// The evidence with each interval's observations weighted by
    /// `2^(−age / half_life)`, `age = now − t` of the interval's end (0 for
    /// an interval not yet over). The observations before the first point
    /// are weighted at its age: exact when the history is known from the
    /// start, an upper bound on their weight when older points were dropped.
    #[must_use]
    pub fn decayed(&self, now: u64, half_life: u64) -> Evidence {
        let mut w = 0.0;
        let mut n = 0.0;
        let mut before = Counts::ZERO;
        for point in &self.points {
            let age = now.saturating_sub(point.t) as f64;
            let weight = (-age / half_life.max(1) as f64).exp2();
            w += (point.counts.w() - before.w()) as f64 * weight;
            n += (point.counts.n() - before.n()) as f64 * weight;
            before = point.counts;
        }
        // Each term's wins are at most its trials, and rounding is
        // monotone, so w ≤ n holds for the sums too.
        Evidence::new(w, n.max(w)).unwrap_or(Evidence::ZERO)
    }

    /// Its points on a coarser grid of time: one per `step` (ms) that holds
    /// a change, at the step's end (a multiple of `step`), with the counts
    /// of the last point in it.
    #[must_use]
    pub fn resampled(&self, step: u64) -> Vec<HistoryPoint> {
        let step = step.max(1);
        let mut out: Vec<HistoryPoint> = Vec::new();
        for point in &self.points {
            let end = point.t.div_ceil(step) * step;
            match out.last_mut() {
                Some(last) if last.t == end => last.counts = point.counts,
                _ => out.push(HistoryPoint {
                    t: end,
                    counts: point.counts,
                }),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: u64, w: u64, n: u64) -> HistoryPoint {
        HistoryPoint {
            t,
            counts: Counts::new(w, n).unwrap(),
        }
    }

    fn history() -> History {
        History::new(vec![point(60, 1, 2), point(180, 3, 5), point(300, 4, 9)], 0).unwrap()
    }

    #[test]
    fn counts_at_a_time_are_those_of_the_last_point_at_or_before_it() {
        let h = history();
        assert_eq!(h.counts_at(0), Ok(Counts::ZERO));
        assert_eq!(h.counts_at(59), Ok(Counts::ZERO));
        assert_eq!(h.counts_at(60), Ok(Counts::new(1, 2).unwrap()));
        assert_eq!(h.counts_at(299), Ok(Counts::new(3, 5).unwrap()));
        assert_eq!(h.counts_at(10_000), Ok(Counts::new(4, 9).unwrap()));
    }

    #[test]
    fn a_window_is_the_latest_less_its_start() {
        let h = history();
        assert_eq!(
            h.since(300 - 120, h.latest()),
            Ok(Counts::new(1, 4).unwrap())
        );
        assert_eq!(
            h.since(300 - 121, h.latest()),
            Ok(Counts::new(3, 7).unwrap())
        );
        assert_eq!(h.since(0, h.latest()), Ok(Counts::new(4, 9).unwrap()));
    }

    #[test]
    fn before_a_dropped_past_the_history_is_unknown() {
        let h = History::new(vec![point(600, 10, 20), point(660, 11, 22)], 600).unwrap();
        assert_eq!(h.counts_at(600), Ok(Counts::new(10, 20).unwrap()));
        assert_eq!(
            h.since(660 - 61, h.latest()),
            Err(HistoryError::BeforeHistory { known_from: 600 })
        );
    }

    #[test]
    fn decay_weighs_each_interval_by_its_age() {
        let h = history();
        let e = h.decayed(300, 120);
        // Increments: (1,2) at 60 → age 240 → 1/4; (2,3) at 180 → 1/2; (1,4) at 300 → 1.
        assert!((e.w() - (0.25 + 1.0 + 1.0)).abs() < 1e-12, "{e:?}");
        assert!((e.n() - (0.5 + 1.5 + 4.0)).abs() < 1e-12, "{e:?}");
        // An interval not over yet weighs 1.
        let e = h.decayed(250, 1_000_000);
        assert!(e.n() <= 9.0 && e.n() > 8.999, "{e:?}");
    }

    #[test]
    fn disordered_points_are_refused() {
        assert!(History::new(vec![point(60, 1, 2), point(60, 1, 3)], 0).is_err());
        assert!(History::new(vec![point(60, 1, 2), point(120, 0, 3)], 0).is_err());
        assert!(History::new(vec![point(60, 1, 2), point(120, 1, 1)], 0).is_err());
    }

    #[test]
    fn resampling_keeps_the_last_point_of_each_step() {
        let h = history();
        assert_eq!(
            h.resampled(120),
            [point(120, 1, 2), point(240, 3, 5), point(360, 4, 9)]
        );
        assert_eq!(h.resampled(600), [point(600, 4, 9)]);
        assert_eq!(h.resampled(60), h.points());
    }
}

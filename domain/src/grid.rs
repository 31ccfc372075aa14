//! The grid the posterior is approximated on: `G` evenly spaced points from 0 to 1.

use std::fmt;

/// `G` points `p_i = i / (G - 1)`, `i = 0..G`, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grid {
    points: usize,
}

/// Why a grid size is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    /// Too few or too many points.
    #[error("grid points must be between {min} and {max}, got {given}")]
    OutOfRange {
        /// What was asked for.
        given: String,
        /// Smallest accepted size.
        min: usize,
        /// Largest accepted size.
        max: usize,
    },
}

impl Grid {
    /// The original's grid size.
    pub const DEFAULT_POINTS: usize = 120;
    /// A grid needs both ends.
    pub const MIN_POINTS: usize = 2;
    /// Bounds the memory a configuration can ask for (80 MB of `f64`s).
    pub const MAX_POINTS: usize = 10_000_000;

    /// A grid of `points` points.
    ///
    /// # Errors
    /// [`GridError::OutOfRange`] outside `MIN_POINTS..=MAX_POINTS`.
    pub fn new(points: usize) -> Result<Self, GridError> {
        if (Self::MIN_POINTS..=Self::MAX_POINTS).contains(&points) {
            Ok(Self { points })
        } else {
            Err(Self::out_of_range(points.to_string()))
        }
    }

    /// Parses a decimal point count, as given in configuration.
    ///
    /// # Errors
    /// [`GridError::OutOfRange`] for non-numbers and sizes out of range.
    pub fn parse(text: &str) -> Result<Self, GridError> {
        text.parse::<usize>()
            .map_err(|_| Self::out_of_range(format!("{text:?}")))
            .and_then(Self::new)
    }

    fn out_of_range(given: String) -> GridError {
        GridError::OutOfRange {
            given,
            min: Self::MIN_POINTS,
            max: Self::MAX_POINTS,
        }
    }

    /// Number of points.
    #[must_use]
    pub const fn points(self) -> usize {
        self.points
    }

    /// Distance between neighbouring points, `1 / (G - 1)`.
    #[must_use]
    pub fn spacing(self) -> f64 {
        1.0 / self.last() as f64
    }

    /// The point `p_i`. Exact at both ends: `p_0 = 0`, `p_{G-1} = 1`.
    #[must_use]
    pub fn p(self, i: usize) -> f64 {
        i as f64 / self.last() as f64
    }

    /// `1 - p_i`, computed as `(G - 1 - i) / (G - 1)` so it is exact at the ends.
    #[must_use]
    pub fn q(self, i: usize) -> f64 {
        (self.last() - i) as f64 / self.last() as f64
    }

    /// Iterates over the points in order.
    pub fn iter(self) -> impl ExactSizeIterator<Item = f64> {
        (0..self.points).map(move |i| self.p(i))
    }

    const fn last(self) -> usize {
        self.points - 1
    }
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            points: Self::DEFAULT_POINTS,
        }
    }
}

impl fmt::Display for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_exact() {
        let grid = Grid::new(120).unwrap();
        assert_eq!(grid.p(0), 0.0);
        assert_eq!(grid.p(119), 1.0);
        assert_eq!(grid.q(0), 1.0);
        assert_eq!(grid.q(119), 0.0);
        assert_eq!(grid.iter().len(), 120);
    }

    #[test]
    fn sizes_out_of_range_are_refused() {
        assert!(Grid::new(1).is_err());
        assert!(Grid::new(0).is_err());
        assert!(Grid::new(Grid::MAX_POINTS + 1).is_err());
        assert!(Grid::new(2).is_ok());
        let message = Grid::parse("abc").unwrap_err().to_string();
        assert_eq!(
            message,
            "grid points must be between 2 and 10000000, got \"abc\""
        );
        assert_eq!(
            Grid::parse("1").unwrap_err().to_string(),
            "grid points must be between 2 and 10000000, got 1"
        );
    }

    #[test]
    fn the_default_is_the_originals_120_points() {
        assert_eq!(Grid::default().points(), 120);
    }
}

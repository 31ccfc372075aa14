//! What answers say when a posterior does not show what its data say: the
//! kinds of pinning ([`Pinned`], found by [`crate::Posterior::pinned`]) and
//! the warning answers carry for each, a stable code and a sentence.

use crate::{Prior, plain_decimal};
use serde::Serialize;
use std::fmt;

/// Which side of the prior's support the data point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Below its lowest supported grid point.
    Below,
    /// Above its highest supported grid point.
    Above,
}

/// Why a posterior does not show what the data say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pinned {
    /// The posterior piles against the edge of its prior's support because
    /// the data point beyond it.
    AtPriorEdge {
        /// The prior.
        prior: Prior,
        /// The edge: the last grid point the prior gives mass, where the
        /// posterior's mode is.
        edge: f64,
        /// Where the data point, from the edge.
        side: Side,
        /// The likelihood's share (normalised on the grid) beyond the edge.
        outside: f64,
    },
    /// Most of the posterior's mass is on one grid point.
    OnOneGridPoint {
        /// The point.
        p: f64,
        /// Its mass.
        mass: f64,
        /// The grid's size.
        points: usize,
    },
}

/// A warning as answers carry it: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// What kind of warning it is; clients may match on it.
    pub code: WarningCode,
    /// What it means and what to do, in plain English.
    pub message: String,
}

/// The kinds of warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// [`Pinned::AtPriorEdge`].
    PinnedAtPriorEdge,
    /// [`Pinned::OnOneGridPoint`].
    OneGridPoint,
}

impl Pinned {
    /// The code answers carry.
    #[must_use]
    pub const fn code(self) -> WarningCode {
        match self {
            Self::AtPriorEdge { .. } => WarningCode::PinnedAtPriorEdge,
            Self::OnOneGridPoint { .. } => WarningCode::OneGridPoint,
        }
    }
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::AtPriorEdge {
                prior,
                edge,
                side,
                outside,
            } => write!(
                f,
                "the posterior is pinned at the edge of its prior's support, p = {}: the data put \
                 {} of their weight {} it, where the prior {prior} gives no mass, so it shows the \
                 prior's edge, not the rate; redefine the model with a prior that covers the data \
                 (e.g. uniform)",
                short(edge),
                percent(outside),
                match side {
                    Side::Below => "below",
                    Side::Above => "above",
                }
            ),
            Self::OnOneGridPoint { p, mass, points } => write!(
                f,
                "{} of the posterior is on one grid point, p = {}: its grid of {points} points \
                 (spacing {}) is too coarse to tell rates this close apart; redefine the model \
                 with more grid_points (its counts stay)",
                percent(mass),
                short(p),
                short(1.0 / (points.max(2) - 1) as f64)
            ),
        }
    }
}

impl From<Pinned> for Warning {
    fn from(pinned: Pinned) -> Self {
        Self {
            code: pinned.code(),
            message: pinned.to_string(),
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// A grid point in four significant digits, trailing zeros dropped.
fn short(p: f64) -> String {
    let text = plain_decimal(p, 4);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

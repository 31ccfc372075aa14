//! Gauss–Legendre quadrature on `[0, 1]`: with `m` nodes it integrates
//! every polynomial of degree below `2m` exactly (up to rounding), with
//! positive weights, so sums of positive terms stay free of cancellation.

use std::f64::consts::PI;

/// The `m` nodes `t` in `(0, 1)` and their weights (summing to 1), found
/// by Newton's method on the Legendre polynomial `P_m`.
pub(super) fn gauss_legendre(m: usize) -> Vec<(f64, f64)> {
    (0..m)
        .map(|i| {
            // Tricomi's estimate of the i-th root, then Newton to convergence.
            let mut x = (PI * (i as f64 + 0.75) / (m as f64 + 0.5)).cos();
            let mut slope = legendre(m, x).1;
            for _ in 0..100 {
                let (value, derivative) = legendre(m, x);
                slope = derivative;
                let step = value / derivative;
                x -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            let weight = 2.0 / ((1.0 - x * x) * slope * slope);
            ((1.0 + x) / 2.0, weight / 2.0)
        })
        .collect()
}

/// `(P_m(x), P_m'(x))` by the three-term recurrence.
fn legendre(m: usize, x: f64) -> (f64, f64) {
    let (mut previous, mut current) = (1.0, x);
    if m == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=m {
        let k = k as f64;
        (previous, current) = (
            current,
            ((2.0 * k - 1.0) * x * current - (k - 1.0) * previous) / k,
        );
    }
    let m = m as f64;
    (current, m * (x * current - previous) / (x * x - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m_nodes_integrate_every_monomial_below_degree_2m_exactly() {
        for m in 1..=12 {
            let rule = gauss_legendre(m);
            for degree in 0..2 * m {
                let integral: f64 = rule.iter().map(|(t, w)| w * t.powi(degree as i32)).sum();
                let exact = 1.0 / (degree + 1) as f64;
                assert!(
                    (integral - exact).abs() < 1e-14,
                    "m {m}, t^{degree}: {integral}"
                );
            }
        }
    }
}

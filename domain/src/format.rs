//! Numbers in words: plain decimals with a fixed count of significant
//! digits, never scientific notation, so a verdict reads `0.000820` where a
//! table beside it reads `0.000820` (the dashboard's `plain()` in
//! `api/assets/app.js` is the same rule, written in JavaScript).

/// `x` rounded to `significant` significant digits (at least 1), written as
/// a plain decimal: `plain_decimal(8.2e-4, 3)` is `"0.000820"`,
/// `plain_decimal(0.0025, 3)` is `"0.00250"`, `plain_decimal(12.345, 3)` is
/// `"12.3"` (numbers of more than `significant` whole digits are written
/// whole); zero is `"0.00"` for 3 digits (as JavaScript's
/// `toPrecision(3)`); a non-finite number is written as Rust writes it.
#[must_use]
pub fn plain_decimal(x: f64, significant: usize) -> String {
    let significant = significant.max(1);
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return format!("{:.*}", significant - 1, 0.0);
    }
    let mut exponent = x.abs().log10().floor() as i32;
    // Rounding may carry into the next power of ten (9.996e-4 → 0.00100).
    let digits = significant as i32;
    let scaled = (x.abs() / 10f64.powi(exponent - digits + 1)).round();
    if scaled >= 10f64.powi(digits) {
        exponent += 1;
    }
    let decimals = (digits - 1 - exponent).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Serialises a count that may be fractional (decayed evidence): an
/// integral value up to `2^53` as an integer (`5`, not `5.0`), so integer
/// counts read as they always did, anything else as a float (`2.5`).
///
/// # Errors
/// Whatever the serializer's own errors are.
pub(crate) fn serialize_count<S: serde::Serializer>(
    x: &f64,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && x.abs() <= crate::evidence::MAX_EXACT {
        if *x >= 0.0 {
            serializer.serialize_u64(*x as u64)
        } else {
            serializer.serialize_i64(*x as i64)
        }
    } else {
        serializer.serialize_f64(*x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_numbers_are_plain_decimals_with_three_digits() {
        assert_eq!(plain_decimal(8.2e-4, 3), "0.000820");
        assert_eq!(plain_decimal(2.44e-5, 3), "0.0000244");
        assert_eq!(plain_decimal(3.1e-9, 3), "0.00000000310");
        assert_eq!(plain_decimal(0.0025, 3), "0.00250");
        assert_eq!(plain_decimal(0.039_945, 3), "0.0399");
        assert_eq!(plain_decimal(9.996e-4, 3), "0.00100");
        assert_eq!(plain_decimal(0.0, 3), "0.00");
        assert_eq!(plain_decimal(12.345, 3), "12.3");
        assert_eq!(plain_decimal(-0.001_234, 2), "-0.0012");
    }

    proptest! {
        #[test]
        fn the_digits_shown_are_the_number_rounded(x in 1e-12..1.0f64, digits in 1..6usize) {
            let text = plain_decimal(x, digits);
            prop_assert!(!text.contains('e'), "{text}");
            let back: f64 = text.parse().unwrap();
            prop_assert!((back - x).abs() <= x * 10f64.powi(1 - digits as i32), "{x} {text}");
            let shown = text.trim_start_matches(['0', '.']).replace('.', "");
            prop_assert_eq!(shown.len(), digits, "{} {}", x, text);
        }
    }
}

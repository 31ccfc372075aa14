//! Log time: the time in the log entries' ids, which Redis sets at `XADD`
//! (`<unix ms>-<seq>`). History points, windows and decay are all in it,
//! never in a reader's clock, so a backlog drained in seconds, a restart, a
//! takeover or a rebuild give the same history.
//!
//! A model's history has a point at the end of every interval of log time
//! in which its counts changed: the point at `t` holds the cumulative counts
//! of every observation whose entry's time is before `t`. Interval ends are
//! the multiples of the interval since the Unix epoch.

use clap::Args;
use std::fmt;

/// One second, in ms.
const SECOND: u64 = 1_000;

/// The history flags both binaries take (the api needs the interval to
/// check a `step`, bayes to write the points).
#[derive(Debug, Clone, Copy, Args)]
pub struct HistoryArgs {
    /// Length of one interval of a model's history, in log time (at least 1s).
    #[arg(long, env = "HISTORY_INTERVAL", default_value = "60s", value_parser = parse_interval)]
    pub history_interval: Span,

    /// How far back a model's history reaches before older points are dropped
    /// (keeping the last one before, so every time since stays exact).
    #[arg(long, env = "HISTORY_RETENTION", default_value = "30d", value_parser = parse_interval)]
    pub history_retention: Span,
}

impl HistoryArgs {
    /// The settings, checked against each other.
    ///
    /// # Errors
    /// A retention shorter than one interval.
    pub fn settings(self) -> Result<HistorySettings, String> {
        let interval = self.history_interval.millis();
        let retention = self.history_retention.millis();
        if retention < interval {
            return Err(format!(
                "HISTORY_RETENTION ({}) is shorter than HISTORY_INTERVAL ({})",
                self.history_retention, self.history_interval
            ));
        }
        Ok(HistorySettings {
            interval,
            retention,
        })
    }
}

/// The history's interval and retention, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistorySettings {
    /// Interval length, ms (≥ 1,000).
    pub interval: u64,
    /// Retention, ms (≥ interval).
    pub retention: u64,
}

impl HistorySettings {
    /// The defaults: 60 s intervals kept 30 days.
    pub const DEFAULT: Self = Self {
        interval: 60 * SECOND,
        retention: 30 * 24 * 3_600 * SECOND,
    };

    /// The most points one model's history holds: one per interval of the
    /// retention, and the one kept from before it.
    #[must_use]
    pub const fn max_points(self) -> u64 {
        self.retention / self.interval + 1
    }

    /// The end of the interval holding log time `millis`: the history point
    /// an observation at `millis` first counts in.
    #[must_use]
    pub const fn interval_end(self, millis: u64) -> u64 {
        (millis / self.interval + 1) * self.interval
    }
}

/// A length of log time, in ms, as written in settings and queries:
/// `90s`, `15m`, `24h`, `7d`, `2w`, or plain milliseconds (`1500`, `1500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(u64);

impl Span {
    /// A span of `millis` ms.
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Its length in ms.
    #[must_use]
    pub const fn millis(self) -> u64 {
        self.0
    }

    /// Parses `text`: a positive whole number with an optional unit of
    /// `ms`, `s`, `m`, `h`, `d` or `w`.
    ///
    /// # Errors
    /// A message naming what is accepted.
    pub fn parse(text: &str) -> Result<Self, SpanError> {
        let error = || SpanError(text.chars().take(40).collect());
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let number: u64 = number.parse().map_err(|_| error())?;
        let unit = match unit {
            "" | "ms" => 1,
            "s" => SECOND,
            "m" => 60 * SECOND,
            "h" => 3_600 * SECOND,
            "d" => 86_400 * SECOND,
            "w" => 7 * 86_400 * SECOND,
            _ => return Err(error()),
        };
        match number.checked_mul(unit) {
            Some(millis) if millis > 0 => Ok(Self(millis)),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [
            (7 * 86_400 * SECOND, "w"),
            (86_400 * SECOND, "d"),
            (3_600 * SECOND, "h"),
            (60 * SECOND, "m"),
            (SECOND, "s"),
        ];
        match units.iter().find(|(unit, _)| self.0.is_multiple_of(*unit)) {
            Some((unit, name)) => write!(f, "{}{name}", self.0 / unit),
            None => write!(f, "{}ms", self.0),
        }
    }
}

/// Text that is not a [`Span`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a length of time: give a positive whole number and a unit, ms, s, m, h, d or w (e.g. 90m, 24h, 7d)"
)]
pub struct SpanError(String);

fn parse_interval(text: &str) -> Result<Span, String> {
    let span = Span::parse(text).map_err(|e| e.to_string())?;
    if span.millis() < SECOND || !span.millis().is_multiple_of(SECOND) {
        return Err(format!("{text:?} must be whole seconds, at least 1s"));
    }
    Ok(span)
}

/// A moment of log time as a query gives it: Unix ms (`1700000000000`) or
/// RFC 3339 (`2026-12-01T10:00:00Z`).
///
/// # Errors
/// A message naming both forms.
pub fn parse_moment(text: &str) -> Result<u64, MomentError> {
    if let Ok(millis) = text.parse::<u64>() {
        return Ok(millis);
    }
    let error = || MomentError(text.chars().take(40).collect());
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| error())?;
    u64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).map_err(|_| error())
}

/// Unix ms as RFC 3339 (UTC, milliseconds), for messages and labels.
#[must_use]
pub fn format_moment(millis: u64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| millis.to_string())
}

/// Text that is not a moment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time: give Unix milliseconds or RFC 3339 (e.g. 2026-12-01T10:00:00Z)")]
pub struct MomentError(String);

/// The Unix ms of a stream entry id `<ms>-<seq>` (or a bare `<ms>`).
#[must_use]
pub fn id_millis(id: &str) -> Option<u64> {
    id.split_once('-').map_or(id, |(ms, _)| ms).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_with_their_units() {
        let cases = [
            ("1500", 1_500),
            ("1500ms", 1_500),
            ("90s", 90_000),
            ("90m", 5_400_000),
            ("24h", 86_400_000),
            ("7d", 604_800_000),
            ("2w", 1_209_600_000),
        ];
        for (text, millis) in cases {
            assert_eq!(Span::parse(text).map(Span::millis), Ok(millis), "{text}");
        }
        for bad in [
            "",
            "0",
            "0s",
            "-5m",
            "5 m",
            "5y",
            "1.5h",
            "h",
            "99999999999999999999d",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Span::parse("7d").unwrap().to_string(), "1w");
        assert_eq!(Span::from_millis(90_000).to_string(), "90s");
        assert_eq!(Span::from_millis(1_500).to_string(), "1500ms");
    }

    #[test]
    fn intervals_end_on_multiples_of_their_length() {
        let s = HistorySettings::DEFAULT;
        assert_eq!(s.interval_end(0), 60_000);
        assert_eq!(s.interval_end(59_999), 60_000);
        assert_eq!(s.interval_end(60_000), 120_000);
        // 30 days of minutes and the one kept from before.
        assert_eq!(s.max_points(), 43_201);
    }

    #[test]
    fn the_interval_is_whole_seconds_and_retention_at_least_one() {
        assert!(parse_interval("500ms").is_err());
        assert!(parse_interval("1500ms").is_err());
        assert_eq!(parse_interval("2s").map(Span::millis), Ok(2_000));
        let args = HistoryArgs {
            history_interval: Span::from_millis(3_600_000),
            history_retention: Span::from_millis(60_000),
        };
        assert!(args.settings().unwrap_err().contains("shorter"));
    }

    #[test]
    fn moments_are_unix_ms_or_rfc_3339() {
        assert_eq!(parse_moment("1700000000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_moment("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(
            parse_moment("2023-11-14T23:13:20.5+01:00"),
            Ok(1_700_000_000_500)
        );
        for bad in ["", "yesterday", "-5", "2023-11-14", "1e12"] {
            assert!(parse_moment(bad).is_err(), "{bad}");
        }
        assert_eq!(format_moment(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn entry_ids_give_their_millis() {
        assert_eq!(id_millis("1700000000123-4"), Some(1_700_000_000_123));
        assert_eq!(id_millis("42"), Some(42));
        assert_eq!(id_millis("x-1"), None);
    }
}

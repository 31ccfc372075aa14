//! A log-time axis: ticks on round UTC times (minutes, hours, days) and
//! their labels, `HH:MM` within two days, dates beyond.

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
/// Spans longer than this are labelled with dates.
const DATES_BEYOND: u64 = 2 * DAY;
/// The tick steps tried, shortest first.
const STEPS: [u64; 17] = [
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
    91 * DAY,
];

/// Ticks and labels of the time span `[from, to]` (Unix ms), drawn in
/// units of the tick step from a round origin, so a chart's own choice of
/// round numbers lands on round times.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeAxis {
    /// The tick times, Unix ms: multiples of one round step inside the span.
    pub ticks: Vec<u64>,
    /// The round time before the span that is the axis's 0.
    pub origin: u64,
    /// The tick step, ms: the axis's unit.
    pub step: u64,
    dates: bool,
}

impl TimeAxis {
    /// At most about `most` ticks on `[from, to]`.
    #[must_use]
    pub fn new(from: u64, to: u64, most: usize) -> Self {
        let span = to.saturating_sub(from);
        let most = most.max(2) as u64;
        let step = STEPS
            .iter()
            .copied()
            .find(|step| span / step < most)
            .unwrap_or_else(|| span.div_ceil(most).div_ceil(DAY).max(1) * DAY);
        let ticks = (from.div_ceil(step)..=to / step)
            .map(|k| k * step)
            .collect();
        Self {
            ticks,
            origin: from / step * step,
            step,
            dates: span > DATES_BEYOND,
        }
    }

    /// Where `t` is on the axis, in steps from its origin.
    #[must_use]
    pub fn position(&self, t: u64) -> f64 {
        (t as f64 - self.origin as f64) / self.step as f64
    }

    /// The time at `position` (rounded to the minute).
    #[must_use]
    pub fn time(&self, position: f64) -> u64 {
        let t = (self.origin as f64 + position * self.step as f64).max(0.0) as u64;
        (t + MINUTE / 2) / MINUTE * MINUTE
    }

    /// The label of a tick: `HH:MM`, or `MM-DD` for a span beyond two days.
    #[must_use]
    pub fn label(&self, t: u64) -> String {
        let (_, month, day) = civil(t / DAY);
        if self.dates {
            format!("{month:02}-{day:02}")
        } else {
            let minutes = t % DAY / MINUTE;
            format!("{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }

    /// What the axis shows, with the date (or year) the labels leave out.
    #[must_use]
    pub fn description(from: u64, to: u64) -> String {
        let (first, last) = (date(from), date(to));
        if first == last {
            format!("log time (UTC), {first}")
        } else {
            format!("log time (UTC), {first} to {last}")
        }
    }
}

/// `YYYY-MM-DD` of a Unix ms time.
#[must_use]
pub fn date(t: u64) -> String {
    let (year, month, day) = civil(t / DAY);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let (era, day_of_era) = (z / 146_097, z % 146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T10:51:00Z.
    const T: u64 = 1_796_122_260_000;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(date(T), "2026-12-01");
    }

    #[test]
    fn hours_are_labelled_by_clock_time_on_round_ticks() {
        let axis = TimeAxis::new(T, T + 3 * HOUR, 8);
        assert_eq!(axis.ticks.len(), 6, "every 30 minutes: {:?}", axis.ticks);
        assert!(axis.ticks.iter().all(|t| t % (30 * MINUTE) == 0));
        assert_eq!(axis.label(axis.ticks[0]), "11:00");
        assert_eq!(axis.time(axis.position(axis.ticks[2])), axis.ticks[2]);
        assert!(axis.position(T) < 1.0 && axis.position(T) >= 0.0);
        assert_eq!(
            TimeAxis::description(T, T + HOUR),
            "log time (UTC), 2026-12-01"
        );
    }

    #[test]
    fn long_spans_are_labelled_by_date() {
        let axis = TimeAxis::new(T, T + 20 * DAY, 8);
        assert!(
            axis.ticks.len() <= 8 && axis.ticks.len() >= 3,
            "{:?}",
            axis.ticks
        );
        assert_eq!(axis.label(T + DAY), "12-02");
        assert_eq!(
            TimeAxis::description(T, T + 31 * DAY),
            "log time (UTC), 2026-12-01 to 2027-01-01"
        );
        let years = TimeAxis::new(T, T + 4_000 * DAY, 8);
        assert!(years.ticks.len() <= 8, "{:?}", years.ticks.len());
    }
}

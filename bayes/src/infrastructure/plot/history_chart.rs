//! The history panel: the posterior mean over log time, its 89% interval
//! shaded around it.

use super::chart::{Area, BLUE, ChartError, FAMILY, draw_error};
use super::time_axis::TimeAxis;
use crate::application::plot::HistoryBand;
use plotters::prelude::*;

/// Points marked with a dot when there are at most this many.
const MAX_MARKED_POINTS: usize = 60;
/// About this many time labels.
const TIME_LABELS: usize = 7;

/// Draws the bands (at least two, oldest first) on `area`.
pub fn draw_history(area: &Area<'_>, bands: &[HistoryBand]) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        return Ok(());
    };
    let (from, to) = (first.t, last.t.max(first.t + 1));
    let lo = bands.iter().map(|b| b.lo).fold(1.0, f64::min);
    let hi = bands.iter().map(|b| b.hi).fold(0.0, f64::max);
    let pad = ((hi - lo) * 0.08).max(0.005);
    let y_range = (lo - pad).max(0.0)..(hi + pad).min(1.0);
    let axis = TimeAxis::new(from, to, TIME_LABELS);
    let x_range = axis.position(from)..axis.position(to);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("posterior over time (n: {} → {})", first.n, last.n),
            (FAMILY, 22),
        )
        .margin(15)
        .margin_right(35)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, y_range)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .x_desc(TimeAxis::description(from, to))
        .y_desc("proportion of w")
        .x_labels(axis.ticks.len().max(2))
        .x_label_formatter(&|u| axis.label(axis.time(*u)))
        .y_label_formatter(&|p| format!("{p:.3}"))
        .label_style((FAMILY, 15))
        .light_line_style(BLACK.mix(0.04))
        .draw()
        .map_err(draw_error)?;

    let x = |b: &HistoryBand| axis.position(b.t);
    let outline: Vec<(f64, f64)> = bands
        .iter()
        .map(|b| (x(b), b.hi))
        .chain(bands.iter().rev().map(|b| (x(b), b.lo)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(outline, BLUE.mix(0.25))))
        .map_err(draw_error)?
        .label(format!("89% interval [{:.3}, {:.3}] now", last.lo, last.hi))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.25).filled()));
    chart
        .draw_series(LineSeries::new(
            bands.iter().map(|b| (x(b), b.mean)),
            BLUE.stroke_width(2),
        ))
        .map_err(draw_error)?
        .label(format!("posterior mean {:.4} now", last.mean))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    if bands.len() <= MAX_MARKED_POINTS {
        chart
            .draw_series(
                bands
                    .iter()
                    .map(|b| Circle::new((x(b), b.mean), 3, BLUE.filled())),
            )
            .map_err(draw_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 15))
        .border_style(BLACK.mix(0.3))
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(draw_error)
}

#[cfg(test)]
mod tests {
    use super::super::{HISTORY_WIDTH, render_png};
    use crate::application::plot::PlotData;
    use domain::{Counts, Grid, History, HistoryPoint, ModelDefinition, Prior};

    /// 2026-12-01T09:00:00Z.
    const START: u64 = 1_796_115_600_000;

    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(info.buffer_size());
        (info.width, info.height, pixels)
    }

    /// A model on the named default grid, 3 hours of a rate moving from
    /// 0.3 to 0.36, a point a minute.
    fn plot(minutes: u64, prior: Prior) -> PlotData {
        let definition = ModelDefinition {
            prior,
            grid: Grid::new(10_001).unwrap(),
        };
        let (mut w, mut n) = (0, 0);
        let points: Vec<HistoryPoint> = (1..=minutes)
            .map(|i| {
                n += 200;
                w += 60 + 12 * i / minutes.max(1);
                HistoryPoint {
                    t: START + i * 60_000,
                    counts: Counts::new(w, n).unwrap(),
                }
            })
            .collect();
        let counts = Counts::new(w, n).unwrap();
        let history = History::new(points, 0).unwrap();
        PlotData::new(definition, counts)
            .unwrap()
            .named("checkout")
            .with_history(definition, &history)
    }

    #[test]
    fn a_history_adds_a_panel_to_the_right_with_the_band_shaded() {
        for prior in [Prior::Uniform, Prior::parse("step:0.2").unwrap()] {
            let png = render_png(&plot(180, prior)).unwrap();
            if let Some(path) = std::env::var_os("BAYES_PLOT_OUT") {
                std::fs::write(path, &png).unwrap();
            }
            let (width, height, pixels) = decode(&png);
            assert_eq!((width, height), (900 + HISTORY_WIDTH, 600));
            let right = pixels
                .chunks(3)
                .enumerate()
                .filter(|(i, _)| (*i as u32 % width) > 950)
                .map(|(_, px)| px);
            let (mut drawn, mut shaded) = (0, 0);
            for px in right {
                drawn += usize::from(px != [255, 255, 255]);
                shaded += usize::from(u16::from(px[2]) > u16::from(px[0]) + 30 && px[0] > 100);
            }
            assert!(drawn > 10_000, "the history panel is drawn: {drawn}");
            assert!(shaded > 2_000, "the band is shaded: {shaded}");
        }
    }

    #[test]
    fn one_point_draws_no_panel() {
        let (width, _, _) = decode(&render_png(&plot(1, Prior::Uniform)).unwrap());
        assert_eq!(width, 900);
    }
}

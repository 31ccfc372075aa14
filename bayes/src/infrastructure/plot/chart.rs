//! Drawing one model state: prior (dashed), posterior (line and points),
//! the 89% HPDI shaded, the mean marked, and a close-up of the exact density
//! when the posterior is narrower than the grid can show; to the right, the
//! posterior over the model's history when it has one.

use super::history_chart::draw_history;
use crate::application::plot::{PlotData, Zoom};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans.LICENSE`).
static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
pub(super) const FAMILY: &str = "sans-serif";
/// The posterior's colour.
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);

const WIDTH: u32 = 900;
/// Width of the history panel, right of the posterior.
pub const HISTORY_WIDTH: u32 = 700;
const MAIN_HEIGHT: u32 = 600;
const ZOOM_HEIGHT: u32 = 360;
/// Grids up to this size get a marker per point, as the original drew them.
const MAX_MARKED_POINTS: usize = 200;

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters failed.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] png::EncodingError),
    /// The bundled font did not load.
    #[error("the bundled font is invalid")]
    Font,
}

pub(super) fn draw_error<E: std::fmt::Debug>(error: E) -> ChartError {
    ChartError::Draw(format!("{error:?}"))
}

/// Registers the bundled font with plotters. Idempotent; call before drawing.
///
/// # Errors
/// [`ChartError::Font`] if the bundled font does not parse.
pub fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

/// Draws `plot` and returns the PNG bytes.
///
/// # Errors
/// [`ChartError`] if drawing or encoding fails.
pub fn render_png(plot: &PlotData) -> Result<Vec<u8>, ChartError> {
    register_font()?;
    let height = MAIN_HEIGHT + if plot.zoom.is_some() { ZOOM_HEIGHT } else { 0 };
    let with_history = plot.history.len() > 1;
    let width = WIDTH + if with_history { HISTORY_WIDTH } else { 0 };
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let (posterior, history) = root.split_horizontally(WIDTH);
        if with_history {
            draw_history(&history, &plot.history)?;
        }
        let (main, close_up) = posterior.split_vertically(MAIN_HEIGHT);
        draw_grid_posterior(&main, plot)?;
        if let Some(zoom) = &plot.zoom {
            draw_close_up(&close_up, zoom)?;
        }
        root.present().map_err(draw_error)?;
    }
    let mut png_bytes = Vec::with_capacity(64 * 1024);
    let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.write_header()?.write_image_data(&pixels)?;
    Ok(png_bytes)
}

pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_grid_posterior(area: &Area<'_>, plot: &PlotData) -> Result<(), ChartError> {
    let top = plot
        .points
        .iter()
        .map(|&(_, prior, post)| prior.max(post))
        .fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(plot.title(), (FAMILY, 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(plot.x_range.0..plot.x_range.1, 0f64..y_max)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .x_desc("proportion of w")
        .y_desc("probability")
        .x_labels(8)
        .x_label_formatter(&|p| label_proportion(*p, plot.x_range))
        .label_style((FAMILY, 15))
        .draw()
        .map_err(draw_error)?;

    let blue = BLUE;
    let shaded = plot
        .points
        .iter()
        .filter(|(p, _, _)| plot.hpdi.contains(*p))
        .map(|&(p, _, post)| (p, post));
    chart
        .draw_series(AreaSeries::new(shaded, 0.0, blue.mix(0.25)))
        .map_err(draw_error)?
        .label(format!(
            "89% HPDI [{:.3}, {:.3}]",
            plot.hpdi.lo, plot.hpdi.hi
        ))
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 20, y + 5)], blue.mix(0.25).filled())
        });
    chart
        .draw_series(DashedLineSeries::new(
            plot.points.iter().map(|&(p, prior, _)| (p, prior)),
            8,
            5,
            BLACK.mix(0.6).stroke_width(2),
        ))
        .map_err(draw_error)?
        .label("prior")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.6).stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            plot.points.iter().map(|&(p, _, post)| (p, post)),
            blue.stroke_width(2),
        ))
        .map_err(draw_error)?
        .label("posterior")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
    if plot.points.len() <= MAX_MARKED_POINTS {
        chart
            .draw_series(
                plot.points
                    .iter()
                    .map(|&(p, _, post)| Circle::new((p, post), 3, blue.filled())),
            )
            .map_err(draw_error)?;
    }
    draw_mean(&mut chart, plot.mean, y_max)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 15))
        .border_style(BLACK.mix(0.3))
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(draw_error)
}

/// A proportion with as many decimals as the shown range needs.
fn label_proportion(p: f64, (lo, hi): (f64, f64)) -> String {
    let width = hi - lo;
    let decimals = if width >= 0.5 {
        1
    } else if width >= 0.05 {
        2
    } else {
        3
    };
    format!("{p:.decimals$}")
}

fn draw_close_up(area: &Area<'_>, zoom: &Zoom) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (zoom.density.first(), zoom.density.last()) else {
        return Ok(());
    };
    let top = zoom.density.iter().map(|(_, d)| *d).fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.1 } else { 1.0 };
    let x_range = if last.0 > first.0 {
        first.0..last.0
    } else {
        first.0..first.0 + f64::EPSILON
    };
    let mut chart = ChartBuilder::on(area)
        .caption("close-up: exact Beta posterior density", (FAMILY, 18))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(x_range, 0f64..y_max)
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .x_desc("proportion of w")
        .y_desc("density")
        .x_labels(6)
        .label_style((FAMILY, 14))
        .draw()
        .map_err(draw_error)?;
    let blue = BLUE;
    let shaded = zoom
        .density
        .iter()
        .copied()
        .filter(|(p, _)| zoom.interval.contains(*p));
    chart
        .draw_series(AreaSeries::new(shaded, 0.0, blue.mix(0.25)))
        .map_err(draw_error)?
        .label(format!(
            "exact 89% interval [{:.5}, {:.5}]",
            zoom.interval.lo, zoom.interval.hi
        ))
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 20, y + 5)], blue.mix(0.25).filled())
        });
    chart
        .draw_series(LineSeries::new(
            zoom.density.iter().copied(),
            blue.stroke_width(2),
        ))
        .map_err(draw_error)?;
    draw_mean(&mut chart, zoom.mean, y_max)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 14))
        .border_style(BLACK.mix(0.3))
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(draw_error)
}

fn draw_mean<'a, X, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    mean: f64,
    y_max: f64,
) -> Result<(), ChartError>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let red = RGBColor(214, 39, 40);
    chart
        .draw_series(DashedLineSeries::new(
            [(mean, 0.0), (mean, y_max)],
            4,
            4,
            red.stroke_width(2),
        ))
        .map_err(draw_error)?
        .label(format!("mean {mean:.4}"))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], red.stroke_width(2)));
    Ok(())
}

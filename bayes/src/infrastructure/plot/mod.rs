//! Plots as PNG files: drawn with plotters (no system libraries: a bundled
//! font through ab_glyph), encoded with `png`, written atomically.

mod chart;
mod files;
mod history_chart;
mod time_axis;

pub use chart::{HISTORY_WIDTH, register_font, render_png};
pub use files::PngDirectory;

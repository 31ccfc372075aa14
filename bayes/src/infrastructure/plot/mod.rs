//! Plots as PNG files: drawn with plotters (no system libraries: a bundled
//! font through ab_glyph), encoded with `png`, written atomically.

mod chart;
mod files;

pub use chart::{register_font, render_png};
pub use files::PngDirectory;

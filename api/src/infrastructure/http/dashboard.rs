//! `GET /`: the live dashboard, HTML, CSS and JavaScript compiled into the
//! binary (no CDN, no build step, works offline).
//!
//! The charts are drawn in the browser as SVG from `GET /models/{name}/posterior`
//! rather than rendered by the server: the page already needs the JSON for
//! its numbers, one curve is a few kilobytes (the page asks for 200
//! points: a 10,001-point grid is cut to its mass), the browser redraws only what
//! a notice names, and an SVG `path` with `role="img"` and a label is
//! readable by screen readers and by tests, where a canvas or a PNG is not.
//! The server keeps drawing the PNGs in `graphs/` (the original's interface).

use super::error::ApiError;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../../assets/index.html");
const APP: &str = include_str!("../../../assets/app.js");
const EXPERIMENTS: &str = include_str!("../../../assets/experiments.js");
const STYLE: &str = include_str!("../../../assets/style.css");

/// Only what the page itself ships; nothing from elsewhere. `data:` images
/// are the page's icon, declared inline so the browser never asks for a
/// `/favicon.ico` that would answer 404.
const POLICY: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";

/// The page.
pub(super) async fn page() -> Response {
    serve("text/html; charset=utf-8", INDEX)
}

/// Its scripts (the page, and its experiments loaded after) and style sheet.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "app.js" => serve("text/javascript; charset=utf-8", APP),
        "experiments.js" => serve("text/javascript; charset=utf-8", EXPERIMENTS),
        "style.css" => serve("text/css; charset=utf-8", STYLE),
        _ => ApiError::NotFound(format!("no asset {file:?}")).into_response(),
    }
}

fn serve(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, POLICY),
        ],
        body,
    )
        .into_response()
}

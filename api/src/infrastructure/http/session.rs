//! The dashboard's session: a browser cannot send a header with an
//! `EventSource`, so the page trades a `read` token for an `HttpOnly`,
//! `SameSite=Strict` cookie, once per browser session, and never puts the
//! token in a URL. The cookie grants `read` only.

use super::auth::{SESSION_COOKIE, presented, refuse, session as session_token};
use super::state::Shared;
use crate::application::{Denied, Scope};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Whether this browser may read: tokens are required, and its session
/// cookie holds a `read` token. The page asks this first, so it never
/// meets a 401 (which browsers log as an error) to find out.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionState {
    /// Access control is on.
    pub required: bool,
    /// The request may read (always, when access control is off).
    pub reader: bool,
}

/// Whether a token is needed, and whether this session has one.
#[utoipa::path(
    get,
    path = "/session",
    tag = "operations",
    responses((status = 200, description = "Whether this browser may read", body = SessionState))
)]
pub(super) async fn state(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> axum::Json<SessionState> {
    let required = state.tokens.enabled();
    let reader = !required
        || session_token(&headers).is_some_and(|token| {
            state
                .tokens
                .check(Some(token.as_bytes()), Scope::Read)
                .is_ok()
        });
    axum::Json(SessionState { required, reader })
}

/// How long a session lasts, in seconds.
const SESSION_SECONDS: u64 = 8 * 3600;

/// Opens a session: a `read` token in `Authorization: Bearer` becomes the
/// session cookie. Without access control it answers 204 and sets nothing.
#[utoipa::path(
    post,
    path = "/session",
    tag = "operations",
    responses(
        (status = 204, description = "The session cookie is set (HttpOnly, SameSite=Strict, 8 hours)"),
        (status = 401, description = "No or an unknown token"),
        (status = 403, description = "A token without the read scope"),
    )
)]
pub(super) async fn open(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if !state.tokens.enabled() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return refuse(Denied::Missing);
    };
    let token = presented(&headers, value);
    if let Err(denied) = state.tokens.check(Some(&token), Scope::Read) {
        return refuse(denied);
    }
    // A known token is visible ASCII without `;`, `,`, `"` or `\`:
    // cookie-safe as it is.
    let token = String::from_utf8_lossy(&token);
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS}"
    );
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response()
}

/// Ends the session: the cookie is cleared.
#[utoipa::path(
    delete,
    path = "/session",
    tag = "operations",
    responses((status = 204, description = "The session cookie is cleared"))
)]
pub(super) async fn close() -> Response {
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response()
}

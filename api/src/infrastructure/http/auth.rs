//! Access control at the edge: which scope each route needs, the bearer
//! token (or the dashboard's session cookie) checked against it, and the
//! 401/403 answers. With no tokens configured every request passes.

use super::error::ApiError;
use super::state::Shared;
use crate::application::{Denied, Scope};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::Cookie;
use axum_extra::headers::HeaderMapExt;
use axum_extra::headers::authorization::{Authorization, Bearer};

/// The dashboard's session cookie: it holds a token, is `HttpOnly` (no
/// script reads it) and `SameSite=Strict`, and grants `read` only, whatever
/// the token's scopes.
pub const SESSION_COOKIE: &str = "edb_session";

/// The scope a request needs; `None` for the open routes: the probes, the
/// OpenAPI document, the dashboard's page and assets (which show a "token
/// needed" state themselves) and the session route (which checks its own).
#[must_use]
pub fn required(method: &Method, path: &str) -> Option<Scope> {
    let open = matches!(
        path,
        "/healthz" | "/readyz" | "/openapi.json" | "/" | "/session"
    ) || path.starts_with("/assets/");
    if open {
        return None;
    }
    Some(match *method {
        Method::GET | Method::HEAD if path.starts_with("/update_model/") => Scope::Write,
        // Stopping an experiment decides it: an admin's act, like its definition.
        Method::POST if path.starts_with("/experiments/") && path.ends_with("/stop") => {
            Scope::Admin
        }
        Method::GET | Method::HEAD => Scope::Read,
        Method::POST => Scope::Write,
        _ => Scope::Admin,
    })
}

/// The middleware: passes a request its credential allows, answers 401 or 403 otherwise.
pub(super) async fn authorize(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    if !state.tokens.enabled() {
        return next.run(request).await;
    }
    let Some(needed) = required(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    match check(&state, request.headers(), needed) {
        Ok(()) => next.run(request).await,
        Err(denied) => refuse(denied),
    }
}

fn check(state: &Shared, headers: &HeaderMap, needed: Scope) -> Result<(), Denied> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return state.tokens.check(Some(&presented(headers, value)), needed);
    }
    match session(headers) {
        // The cookie stands for `read` only.
        Some(token) if needed == Scope::Read => {
            state.tokens.check(Some(token.as_bytes()), Scope::Read)
        }
        Some(_) => Err(Denied::Missing),
        None => Err(Denied::Missing),
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case);
/// any other value (`value`, the header as sent) is compared as it is, and
/// so matches no token.
pub(super) fn presented(headers: &HeaderMap, value: &HeaderValue) -> Vec<u8> {
    match headers.typed_get::<Authorization<Bearer>>() {
        Some(Authorization(bearer)) => bearer.token().trim_ascii().as_bytes().to_vec(),
        None => value.as_bytes().to_vec(),
    }
}

/// The session cookie's value, if the request carries one. Parsed by the
/// `cookie` crate but not percent-decoded (`CookieJar` would decode it): the
/// session route sets the token as it is, and a token may hold a `%`.
pub(super) fn session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

/// 401 with `WWW-Authenticate`, or 403 naming the scope; nothing of the
/// presented token in the answer, the logs or the metrics.
pub(super) fn refuse(denied: Denied) -> Response {
    metrics::counter!("api_auth_failures_total", "reason" => denied.reason()).increment(1);
    match denied {
        Denied::Missing | Denied::Unknown => {
            let challenge = if denied == Denied::Missing {
                r#"Bearer realm="event-driven-bayes""#
            } else {
                r#"Bearer realm="event-driven-bayes", error="invalid_token""#
            };
            let error = if denied == Denied::Missing {
                "a token is needed: send Authorization: Bearer <token>"
            } else {
                "unknown token"
            };
            let mut response = ApiError::Unauthenticated(error.to_owned()).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            response
        }
        Denied::Scope(scope) => {
            ApiError::Forbidden(format!("this needs a token with the {scope} scope"))
                .into_response()
        }
    }
}

/// The OpenAPI document of a deployment with tokens (`enabled`): the bearer
/// scheme and, on every operation, the scope [`required`] asks of it, so
/// the document and the check cannot differ. Without tokens, as it is.
pub(super) fn document(
    mut openapi: utoipa::openapi::OpenApi,
    enabled: bool,
) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    if !enabled {
        return openapi;
    }
    openapi
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    for (path, item) in &mut openapi.paths.paths {
        for (method, operation) in [
            (Method::GET, item.get.as_mut()),
            (Method::POST, item.post.as_mut()),
            (Method::PUT, item.put.as_mut()),
            (Method::DELETE, item.delete.as_mut()),
        ] {
            let Some(operation) = operation else { continue };
            if let Some(scope) = required(&method, path) {
                operation.security =
                    Some(vec![SecurityRequirement::new("bearer", [scope.as_str()])]);
                for (status, text) in [
                    (
                        "401",
                        "No or an unknown token (with WWW-Authenticate: Bearer)",
                    ),
                    ("403", "A token without this route's scope"),
                ] {
                    let response = utoipa::openapi::ResponseBuilder::new()
                        .description(text)
                        .build();
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), response.into());
                }
                let note =
                    format!("Needs a token with the `{scope}` scope (`admin` has every scope).");
                operation.description = Some(match operation.description.take() {
                    Some(text) => format!("{text}\n\n{note}"),
                    None => note,
                });
            }
        }
    }
    openapi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        HeaderMap::from_iter([(name, HeaderValue::from_static(value))])
    }

    fn token(value: &'static str) -> Vec<u8> {
        let headers = headers(header::AUTHORIZATION, value);
        presented(&headers, &HeaderValue::from_static(value))
    }

    #[test]
    fn a_bearer_token_is_read_in_any_case_of_the_scheme() {
        assert_eq!(token("Bearer abc"), b"abc");
        assert_eq!(token("bEaReR abc"), b"abc");
    }

    #[test]
    fn another_scheme_is_compared_as_it_is() {
        assert_eq!(token("Basic abc"), b"Basic abc");
        assert_eq!(token("Bearer"), b"Bearer");
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_not_percent_decoded() {
        let headers = headers(header::COOKIE, "a=1; edb_session=t%41k; b=2");
        assert_eq!(session(&headers).as_deref(), Some("t%41k"));
        assert_eq!(session(&HeaderMap::new()), None);
    }
}

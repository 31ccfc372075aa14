//! The answers `ApiError` gives: statuses, bodies and what they say was stored.

use super::*;

async fn answer_of(error: ApiError) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = error.into_response();
    let status = response.status();
    let retry = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, retry, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn nothing_stored_is_503_with_retry_after() {
    for error in [
        ApiError::Unavailable("refused".into()),
        ApiError::OutOfMemory("OOM".into()),
        ApiError::Overloaded("full".into()),
    ] {
        let (status, retry, body) = answer_of(error).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(body["stored"], "no");
    }
    let (_, _, body) = answer_of(ApiError::OutOfMemory("OOM".into())).await;
    assert!(
        body["error"].as_str().unwrap().contains("out of memory"),
        "{body}"
    );
}

#[tokio::test]
async fn perhaps_stored_is_504_without_retry_after() {
    let (status, retry, body) = answer_of(ApiError::Unknown("reset".into())).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(retry, None);
    assert_eq!(body["stored"], "unknown");
    let (status, _, body) = answer_of(ApiError::Unconfirmed("0 of 1".into())).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["stored"], "unconfirmed");
}

#[tokio::test]
async fn client_errors_carry_no_stored_field() {
    let (status, _, body) = answer_of(ApiError::BadTrial("x".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["accepted"], serde_json::json!(["w", "l"]));
    assert!(body.get("stored").is_none());
    let (status, _, _) = answer_of(ApiError::ModelLimit("full".into())).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

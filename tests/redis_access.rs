//! Reaching Redis safely: AUTH from the URL (never logged) and TLS verified
//! against a configured CA.

use crate::harness::TestApp;

#[tokio::test]
async fn redis_auth_from_the_url_works_and_the_password_is_never_logged() {
    let app = TestApp::builder()
        .redis_args(&["--appendonly", "no", "--requirepass", "s3cret-pw"])
        .spawn()
        .await;
    for trial in ["w", "l", "w"] {
        assert_eq!(app.send(trial).await, 202);
    }
    assert_eq!(app.wait_for_n(3).await, (2, 3));
    assert_eq!(app.get("/readyz").await.unwrap().status(), 200);
    assert!(
        !app.api_log().contains("s3cret-pw"),
        "the api logged the password"
    );
    assert!(
        !app.bayes_logs().contains("s3cret-pw"),
        "bayes logged the password"
    );
    assert!(app.api_log().contains(":***@"), "the masked URL is logged");

    let wrong = TestApp::builder()
        .bayes_instances(0)
        .env("REDIS_URL", &app.redis.url_without_password())
        .spawn()
        .await;
    assert_eq!(
        wrong.get("/readyz").await.unwrap().status(),
        503,
        "no password: not ready"
    );
}

/// A CA and a server certificate for `localhost`, written as PEM files.
fn tls_files(dir: &std::path::Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(path("server.pem"), server.pem()).unwrap();
    std::fs::write(path("server.key"), server_key.serialize_pem()).unwrap();
    (path("ca.pem"), path("server.pem"), path("server.key"))
}

#[tokio::test]
async fn a_rediss_url_talks_tls_verified_against_the_configured_ca() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_files(certs.path());
    let tls_port = crate::harness::free_port().to_string();
    let app = TestApp::builder()
        .redis_args(&[
            "--appendonly",
            "no",
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
        ])
        .env("REDIS_URL", &format!("rediss://localhost:{tls_port}"))
        .env("SSL_CERT_FILE", &ca)
        .spawn()
        .await;
    for trial in ["w", "l", "w"] {
        assert_eq!(app.send(trial).await, 202);
    }
    assert_eq!(app.wait_for_n(3).await, (2, 3));
    app.wait_for_subscriber().await;
    assert_eq!(
        app.publish(b"w").await,
        1,
        "the subscription runs over TLS too"
    );
    assert_eq!(app.wait_for_n(4).await, (3, 4));

    // Without the CA the server's certificate is not trusted: not ready.
    let untrusted = TestApp::builder()
        .bayes_instances(0)
        .env("REDIS_URL", &format!("rediss://localhost:{tls_port}"))
        .spawn()
        .await;
    assert_eq!(untrusted.get("/readyz").await.unwrap().status(), 503);
}

//! The dependency's typed client against a real `gameday sandbox` and the provider it starts:
//! the provider found through the sandbox's discovery, its failures set, read back and reset
//! on its own port, and the patterns switched with a partial body and read back — each checked
//! through the services' own answers.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // Test code: a failure panics.

mod support;

use gameday::fincore::FincoreClient;
use gameday::fincore::dependency::ProviderControl;
use serde_json::json;
use support::{Api, Sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_and_the_patterns_are_set_and_read_back_through_the_client() {
    let sandbox = Sandbox::start(&["--control-token", "a-control-token-of-32-characters"]);
    let client = FincoreClient::new(&sandbox.url)
        .expect("client")
        .with_control_token(Some(gameday::secret::Secret::new(
            "a-control-token-of-32-characters".to_string(),
        )));
    let discovery = client.discover().await.expect("discovery");
    assert!(discovery.patterns, "the sandbox lists /api/patterns");
    let provider = discovery.provider.expect("the sandbox names its provider");
    assert!(provider.embedded);
    let capabilities = client.capabilities().await.expect("capabilities");
    assert_eq!(capabilities.provider.as_ref(), Some(&provider));
    assert!(capabilities.patterns);

    // The provider's failures: set, read back by the client and by the provider's own answer.
    let control = ProviderControl::new(&provider.url).expect("provider client");
    let (status, text) = control
        .set_failures(&json!({"latency_ms": 1500, "error_rate": 0.25}))
        .await
        .expect("answered");
    assert_eq!(status, 200, "{text}");
    let view = control.failures().await.expect("read back");
    assert_eq!(view.value("latency_ms"), Some(1500.0));
    assert_eq!(view.value("error_rate"), Some(0.25));
    assert_eq!(view.value("down"), Some(0.0));
    let (_, raw) = Api::new(&provider.url).get("/api/failures").await;
    assert_eq!(raw["current_config"]["latency_ms"], 1500);
    // A bad value is refused with the field named, and nothing changes.
    let (status, text) = control
        .set_failures(&json!({"error_rate": 30}))
        .await
        .expect("answered");
    assert_eq!(status, 400);
    assert!(text.contains("error_rate"), "{text}");
    assert_eq!(
        control.failures().await.expect("read").value("error_rate"),
        Some(0.25)
    );
    let (status, _) = control.reset().await.expect("answered");
    assert_eq!(status, 200);
    assert!(!control.failures().await.expect("read").any_active());

    // The patterns: a partial body with the control token, read back typed.
    let before = client.patterns().await.expect("patterns");
    assert!(before.enabled().iter().all(|(_, on)| !on), "off by default");
    let body = json!({"timeout": {"enabled": true, "ms": 300}, "bulkhead": {"max_concurrent": 4}});
    let (status, text) = client.set_patterns(&body).await.expect("answered");
    assert_eq!(status, 200, "{text}");
    let after = client.patterns().await.expect("patterns");
    assert!(after.shows(&body));
    assert!(after.timeout.enabled);
    assert_eq!(after.timeout.ms, 300);
    assert!(!after.bulkhead.enabled);
    assert_eq!(after.bulkhead.max_concurrent, 4);
    assert_eq!(
        after.retry, before.retry,
        "fields not named keep their values"
    );
    // Without the token the change is refused and nothing changes.
    let anonymous = FincoreClient::new(&sandbox.url).expect("client");
    let (status, _) = anonymous
        .set_patterns(&json!({"timeout": {"enabled": false}}))
        .await
        .expect("answered");
    assert_eq!(status, 401);
    assert!(client.patterns().await.expect("patterns").timeout.enabled);
}

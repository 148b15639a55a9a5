//! The harness itself: its helpers must fail loudly rather than answer for what they could
//! not ask.

use filegate_tests::spawn_app;

#[tokio::test]
#[should_panic(expected = "HeadObject of")]
async fn head_object_fails_the_test_when_s3_cannot_be_asked() {
    let mut app = spawn_app().await;
    // An endpoint nothing listens on: "could not ask", which must not read as "absent".
    app.deployment.sdk = app
        .deployment
        .sdk
        .to_builder()
        .endpoint_url("http://127.0.0.1:9")
        .build();
    app.head_object("file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z").await;
}

#[tokio::test]
async fn head_object_is_none_for_an_object_that_does_not_exist() {
    let app = spawn_app().await;
    assert!(
        app.head_object("file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")
            .await
            .is_none()
    );
}

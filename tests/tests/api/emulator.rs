//! The embedded emulator where filegate depends on DynamoDB's behaviour: a cancelled
//! transaction leaves every item as it was (the launcher's rollback snapshots only the items
//! a transaction touches, not whole tables).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use filegate_tests::spawn_app;
use std::collections::HashMap;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn key(pk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s("row"))])
}

fn item(pk: &str, n: &str) -> HashMap<String, AttributeValue> {
    let mut item = key(pk);
    item.insert("n".to_owned(), AttributeValue::N(n.to_owned()));
    item
}

async fn read(client: &Client, table: &str, pk: &str) -> Option<HashMap<String, AttributeValue>> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key(pk)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test]
async fn a_cancelled_transaction_leaves_every_item_as_it_was() {
    let app = spawn_app().await;
    let client = Client::new(&app.deployment.sdk);
    let table = app.state().config.table.clone();
    for pk in ["updated", "deleted", "overwritten"] {
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item(pk, "1")))
            .send()
            .await
            .unwrap();
    }
    let update = Update::builder()
        .table_name(&table)
        .set_key(Some(key("updated")))
        .update_expression("SET n = :two, added = :yes")
        .expression_attribute_values(":two", AttributeValue::N("2".into()))
        .expression_attribute_values(":yes", s("yes"))
        .build()
        .unwrap();
    let delete = Delete::builder()
        .table_name(&table)
        .set_key(Some(key("deleted")))
        .build()
        .unwrap();
    let overwrite = Put::builder()
        .table_name(&table)
        .set_item(Some(item("overwritten", "9")))
        .build()
        .unwrap();
    let create = Put::builder()
        .table_name(&table)
        .set_item(Some(item("created", "1")))
        .build()
        .unwrap();
    // Fails, after the others have been applied in moto's order.
    let check = ConditionCheck::builder()
        .table_name(&table)
        .set_key(Some(key("absent")))
        .condition_expression("attribute_exists(pk)")
        .build()
        .unwrap();
    let result = client
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().update(update).build())
        .transact_items(TransactWriteItem::builder().delete(delete).build())
        .transact_items(TransactWriteItem::builder().put(overwrite).build())
        .transact_items(TransactWriteItem::builder().put(create).build())
        .transact_items(TransactWriteItem::builder().condition_check(check).build())
        .send()
        .await;
    let error = result
        .expect_err("the condition check fails")
        .into_service_error();
    let reasons: Vec<Option<String>> = match &error {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().filter(|c| *c != "None").map(str::to_owned))
            .collect(),
        other => panic!("not a cancellation: {other:?}"),
    };
    assert_eq!(
        reasons,
        [
            None,
            None,
            None,
            None,
            Some("ConditionalCheckFailed".to_owned())
        ]
    );
    assert_eq!(
        read(&client, &table, "updated").await,
        Some(item("updated", "1"))
    );
    assert_eq!(
        read(&client, &table, "deleted").await,
        Some(item("deleted", "1"))
    );
    assert_eq!(
        read(&client, &table, "overwritten").await,
        Some(item("overwritten", "1"))
    );
    assert_eq!(read(&client, &table, "created").await, None);
}

/// As DynamoDB does: a transaction sent again with its `ClientRequestToken` succeeds without
/// being applied again; another token is a new transaction; the token with another request
/// is refused.
#[tokio::test]
async fn a_resent_client_request_token_is_the_first_answer() {
    let app = spawn_app().await;
    let client = Client::new(&app.deployment.sdk);
    let table = app.state().config.table.clone();
    let put_new = |pk: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .set_item(Some(item(pk, "1")))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let send = |pk: &str, token: &str| {
        client
            .transact_write_items()
            .transact_items(put_new(pk))
            .client_request_token(token)
            .send()
    };
    send("once", "token-1").await.expect("first");
    send("once", "token-1")
        .await
        .expect("the same token again: the first answer");
    let error = send("once", "token-2")
        .await
        .expect_err("a new token is a new transaction, whose condition fails")
        .into_service_error();
    assert!(error.is_transaction_canceled_exception(), "{error:?}");
    let error = send("other", "token-1")
        .await
        .expect_err("the token with another request")
        .into_service_error();
    assert!(
        error.is_idempotent_parameter_mismatch_exception(),
        "{error:?}"
    );
    assert_eq!(read(&client, &table, "other").await, None);
}

/// DynamoDB throttling (injected at the emulator, for this test's table only): a short burst
/// is retried away; a long one is `503 storage_unavailable`, with nothing written, and the
/// same request succeeds once it passes.
#[tokio::test]
async fn throttled_writes_are_retried_then_503_and_never_half_written() {
    let app = spawn_app().await;
    let endpoint = app.state().config.endpoint_url.clone().unwrap();
    let table = app.state().config.table.clone();
    let http = filegate_tests::http_builder().build().unwrap();
    let throttle = |requests: u32| {
        let request = http
            .post(format!("{endpoint}/_filegate/throttle"))
            .json(&serde_json::json!({"table": table, "requests": requests}))
            .send();
        async move { assert!(request.await.unwrap().status().is_success()) }
    };
    let declaration = filegate_tests::pdf("a.pdf", 10);
    let declare = || app.post("/v1/files", &declaration);

    throttle(2).await;
    let r = declare().await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
    let items = app.table_items().await;

    throttle(1000).await;
    let r = declare().await;
    assert_eq!(
        (r.status, r.code()),
        (
            reqwest::StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable"
        ),
        "{}",
        r.body
    );
    throttle(0).await;
    assert_eq!(app.table_items().await, items, "nothing half-written");
    let r = declare().await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
}

/// As DynamoDB does: while a transaction is in flight, another that touches one of its items
/// is cancelled with `TransactionConflict` (and nothing of it applies), a single-item write
/// of one of its items is `TransactionConflictException`, and transactions on other items go
/// through. (moto alone applies requests one after another and never conflicts.)
#[tokio::test]
async fn a_transaction_on_an_item_in_flight_conflicts() {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let app = filegate_tests::spawn_app_with(filegate_tests::TestOptions {
        own_emulator: true,
        ..Default::default()
    })
    .await;
    let endpoint = app.emulator.as_ref().unwrap().endpoint().to_owned();
    let client = Client::new(&app.deployment.sdk);
    let table = app.state().config.table.clone();
    let http = filegate_tests::http_builder().build().unwrap();
    let hold = |ms: u64| {
        let request = http
            .post(format!("{endpoint}/_filegate/transactions"))
            .json(&serde_json::json!({"hold_ms": ms}))
            .send();
        async move { assert!(request.await.unwrap().status().is_success()) }
    };
    let bump = |pk: &str| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&table)
                    .set_key(Some(key(pk)))
                    .update_expression("ADD n :one")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let put = |pk: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .set_item(Some(item(pk, "1")))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let transact = |items: Vec<TransactWriteItem>| {
        client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
    };

    hold(600).await;
    let first = tokio::spawn(transact(vec![bump("hot"), put("first")]));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (second, other, single) = tokio::join!(
        transact(vec![put("second"), bump("hot")]),
        transact(vec![bump("cold"), put("other")]),
        client
            .update_item()
            .table_name(&table)
            .set_key(Some(key("hot")))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send(),
    );
    first.await.unwrap().expect("the first transaction applies");
    other.expect("a transaction on other items applies alongside");
    let reasons: Vec<String> = match second.expect_err("conflicts").into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or_default().to_owned())
            .collect(),
        other => panic!("not a cancellation: {other:?}"),
    };
    assert_eq!(reasons, ["None", "TransactionConflict"]);
    let single = single.expect_err("a single write of an item in flight");
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&single),
        Some("TransactionConflictException"),
        "{single:?}"
    );
    assert_eq!(
        read(&client, &table, "second").await,
        None,
        "nothing applied"
    );
    assert_eq!(read(&client, &table, "hot").await, Some(item("hot", "1")));

    hold(0).await;
    transact(vec![put("second"), bump("hot")])
        .await
        .expect("once the first is done");
    assert_eq!(read(&client, &table, "hot").await, Some(item("hot", "2")));
}

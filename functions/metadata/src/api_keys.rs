//! API key routes (scope `admin`).

use axum::Json;
use axum::extract::State;
use filegate_shared::api_keys::{ApiKeyObject, CreateApiKeyRequest, DeletedApiKey, NewApiKey};
use filegate_shared::auth::{Caller, Scope};
use filegate_shared::error::{ApiError, AuthErrors, ErrorBody};
use filegate_shared::http::{AppState, Created, JsonBody, PathId, QueryParams};
use filegate_shared::ids::ApiKeyId;
use filegate_shared::listing::{List, PageQuery, PageRequest};

/// Create an API key.
///
/// The response holds the `secret`, once: only its SHA-256 is stored. Send it as
/// `X-API-Key: <secret>` to act as the organisation with the key's scopes; audit events name
/// the key as actor.
#[utoipa::path(
    post, path = "/v1/api_keys", tag = "api_keys",
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "The key with its secret (shown only here)", body = NewApiKey),
        (status = 400, description = "Invalid name or scope (`param` names it)", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CreateApiKeyRequest>,
) -> Result<Created<NewApiKey>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Created(state.api_keys.create(&caller, &request).await?))
}

/// List the organisation's API keys, newest first (never their secrets).
#[utoipa::path(
    get, path = "/v1/api_keys", tag = "api_keys",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of keys", body = List<ApiKeyObject>),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<List<ApiKeyObject>>, ApiError> {
    caller.require(Scope::Admin)?;
    let page = PageRequest::parse(&query)?;
    let list = state
        .api_keys
        .list(&state.cursors, &caller.org, &page)
        .await?;
    Ok(Json(list))
}

/// Revoke an API key: requests with its secret get 401 from now on.
#[utoipa::path(
    delete, path = "/v1/api_keys/{id}", tag = "api_keys",
    params(("id" = String, Path, description = "API key id (`key_…`)")),
    responses(
        (status = 200, description = "Revoked", body = DeletedApiKey),
        (status = 400, description = "Malformed id (`invalid_id`)", body = ErrorBody),
        (status = 404, description = "No such key in the caller's organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<ApiKeyId>,
) -> Result<Json<DeletedApiKey>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(state.api_keys.revoke(&caller.org, &id).await?))
}

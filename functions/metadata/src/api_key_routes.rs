//! API key routes (scope `admin`).

use axum::Json;
use axum::extract::State;
use filegate_domain::ids::ApiKeyId;
use filegate_domain::principal::Scope;
use filegate_http::Created;
use filegate_http::extract::{Authenticated, JsonBody, PathId, QueryParams};
use filegate_http::wire::api_key::{ApiKeyObject, CreateApiKeyRequest, DeletedApiKey, NewApiKey};
use filegate_http::wire::list::{List, PageQuery};
use filegate_http::{ApiError, AppState, AuthErrors, ErrorBody};

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
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<CreateApiKeyRequest>,
) -> Result<Created<NewApiKey>, ApiError> {
    caller.require(Scope::Admin)?;
    let (name, scopes) = request.parts()?;
    let created = state.api_keys.create(&caller, name, scopes).await?;
    Ok(Created(NewApiKey::new(&created.key, created.secret)))
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
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<List<ApiKeyObject>>, ApiError> {
    caller.require(Scope::Admin)?;
    let page = query.page()?;
    let listing = state.lists.api_keys(&caller, &page).await?;
    Ok(Json(List::of(listing)))
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
    Authenticated(caller): Authenticated,
    PathId(id): PathId<ApiKeyId>,
) -> Result<Json<DeletedApiKey>, ApiError> {
    caller.require(Scope::Admin)?;
    state.api_keys.revoke(&caller, &id).await?;
    Ok(Json(DeletedApiKey::new(&id)))
}

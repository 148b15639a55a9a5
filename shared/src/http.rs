//! What every function's router shares: state, extractors that turn bad input into
//! [`ApiError`]s, request ids, the error renderer, tracing and CORS.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::api_keys::ApiKeys;
use crate::audit::RequestOrigin;
use crate::auth::{Authenticator, TokenVerifier};
use crate::aws::AwsClients;
use crate::config::{AuthConfig, Config};
use crate::error::ApiError;
use crate::listing::Cursors;
use crate::service::FileService;

/// Largest JSON body accepted: a full batch of ten files with long names fits many times over.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Everything a handler needs, built once per process.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

#[derive(Debug)]
pub struct Services {
    pub files: FileService,
    pub api_keys: ApiKeys,
    pub authenticator: Arc<Authenticator>,
    pub cursors: Cursors,
    pub config: Config,
}

impl AppState {
    pub fn new(config: Config, auth: &AuthConfig, clients: &AwsClients) -> Self {
        let files = FileService::from_config(&config, clients);
        let api_keys = ApiKeys::new(files.store().clone());
        Self(Arc::new(Services {
            authenticator: Arc::new(Authenticator::new(
                TokenVerifier::new(auth),
                api_keys.clone(),
            )),
            api_keys,
            cursors: Cursors::derive(&auth.jwt_secret),
            files,
            config,
        }))
    }
}

impl AppState {
    /// Config from the environment and AWS clients, once per process (Lambda container).
    pub async fn from_env() -> Result<Self, crate::config::ConfigError> {
        let config = Config::from_env()?;
        let auth = AuthConfig::from_env()?;
        let clients = AwsClients::from_config(&config).await;
        Ok(Self::new(config, &auth, &clients))
    }

    /// `router` inside the layers every function shares.
    pub fn serve(&self, router: Router<()>) -> Router<()> {
        with_common_layers(router, &self.config)
    }
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl FromRef<AppState> for Arc<Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.authenticator.clone()
    }
}

/// A JSON body: `application/json`, at most [`MAX_JSON_BODY`] bytes, no unknown fields, and
/// every failure a 4xx naming the field (`files[3].size_bytes`).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json(&req);
        let bytes = read_body(req, state).await?;
        if !is_json {
            return Err(not_json());
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// Like [`JsonBody`] for bodies that are optional as a whole: no body at all is `T::default()`.
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json(&req);
        let bytes = read_body(req, state).await?;
        match (bytes.is_empty(), is_json) {
            (true, _) => Ok(Self(T::default())),
            (false, true) => parse_json(&bytes).map(OptionalJsonBody),
            (false, false) => Err(not_json()),
        }
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == "application/json")
}

fn not_json() -> ApiError {
    ApiError::unsupported_media_type(
        "unsupported_media_type",
        "send the body as Content-Type: application/json",
    )
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(
                "request_too_large",
                format!("the request body must be at most {MAX_JSON_BODY} bytes"),
            )
        } else {
            ApiError::invalid("invalid_body", "the request body could not be read")
        }
    })
}

/// Deserializes JSON, turning serde's error into an [`ApiError`] whose `param` is the path of
/// the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.inner();
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::invalid(
                "invalid_json",
                format!("the body is not valid JSON: {message}"),
            ),
            Category::Data => {
                let joined = |field: &str| {
                    if path == "." || path.is_empty() {
                        field.to_owned()
                    } else {
                        format!("{path}.{field}")
                    }
                };
                let field = |prefix: &str| {
                    message
                        .strip_prefix(prefix)
                        .and_then(|rest| rest.split('`').next())
                        .map(joined)
                };
                if message.starts_with("unknown field") {
                    // serde_path_to_error's path already ends at the unknown key.
                    ApiError::invalid("unknown_field", message).with_param(path)
                } else if message.starts_with("duplicate field") {
                    ApiError::invalid("duplicate_field", message).with_param(path)
                } else if let Some(param) = field("missing field `") {
                    ApiError::invalid("missing_field", message).with_param(param)
                } else if path == "." {
                    ApiError::invalid("invalid_body", message)
                } else {
                    ApiError::invalid("invalid_type", message).with_param(path)
                }
            }
        }
    })?;
    // Trailing data after the value is malformed JSON too.
    de.end()
        .map_err(|_| ApiError::invalid("invalid_json", "the body has data after the JSON value"))?;
    Ok(value)
}

/// A typed id (`file_…`, `fldr_…`, `key_…`) from the path; anything else is
/// `400 invalid_id` on `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<S, T> FromRequestParts<S> for PathId<T>
where
    S: Send + Sync,
    T: std::str::FromStr<Err = ApiError>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| {
                    ApiError::invalid("invalid_id", "the path has no valid id").with_param("id")
                })?;
        raw.parse()
            .map(PathId)
            .map_err(|e: ApiError| e.with_param("id"))
    }
}

/// Query parameters: unknown and repeated parameters are `400` naming the parameter, like
/// unknown fields in a body.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(QueryParams)
    }
}

/// Deserializes a query string, with the error codes of [`parse_json`].
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str(query).map_err(|e| {
        let message = e.to_string();
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned)
        };
        if let Some(param) = named("unknown field `") {
            ApiError::invalid(
                "unknown_parameter",
                format!("unknown query parameter {param}"),
            )
            .with_param(param)
        } else if let Some(param) = named("duplicate field `") {
            ApiError::invalid(
                "duplicate_parameter",
                format!("query parameter {param} is given more than once"),
            )
            .with_param(param)
        } else {
            ApiError::invalid(
                "invalid_query",
                format!("the query string is not valid: {message}"),
            )
        }
    })
}

impl<S: Send + Sync> FromRequestParts<S> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let request_id = request_id_of(parts);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(512).collect());
        // The address API Gateway saw, or the socket's locally; never X-Forwarded-For,
        // which the client controls.
        let ip = lambda_source_ip(parts).or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
        });
        Ok(Self {
            request_id,
            ip,
            user_agent,
        })
    }
}

fn request_id_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn lambda_source_ip(parts: &Parts) -> Option<String> {
    use lambda_http::request::RequestContext;
    match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Request ids: API Gateway's own id when running behind it (so logs line up with its access
/// logs), otherwise `req_` + ULID.
#[derive(Debug, Clone, Copy, Default)]
struct FilegateRequestId;

impl MakeRequestId for FilegateRequestId {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        use lambda_http::request::RequestContext;
        let from_gateway = match request.extensions().get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        let id = from_gateway.unwrap_or_else(|| format!("req_{}", crate::ids::next_ulid()));
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Writes the JSON body of every error, now that the request id is known; turns axum's bare
/// 405 into the same format.
async fn render_errors(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let request_id = request_id_of(&parts);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let error = match response.extensions_mut().remove::<ApiError>() {
        Some(error) => error,
        None if response.status() == StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::method_not_allowed()
        }
        None => return response,
    };
    let body = serde_json::to_vec(&error.body(&request_id)).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    *response.status_mut() = error.status();
    *response.body_mut() = Body::from(body);
    response
}

async fn route_not_found() -> ApiError {
    ApiError::not_found("route_not_found", "no such route; see /openapi.json")
}

/// Wraps a function's routes in the layers every function shares. Call it once on the whole
/// router (the local API calls it on the merged router).
pub fn with_common_layers(router: Router<()>, config: &Config) -> Router<()> {
    let cors = (!config.cors_allowed_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = config
            .cors_allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::RANGE,
                header::HeaderName::from_static("x-api-key"),
            ])
            // What a browser needs to read from streamed content (the proxy's function URL
            // leaves CORS to this layer).
            .expose_headers([
                header::HeaderName::from_static("x-request-id"),
                header::CONTENT_DISPOSITION,
                header::CONTENT_RANGE,
                header::ETAG,
                header::ACCEPT_RANGES,
                // Where a function URL in streaming mode puts Content-Length.
                header::HeaderName::from_static("x-amzn-remapped-content-length"),
            ])
            .max_age(std::time::Duration::from_secs(600))
    });
    router
        .fallback(route_not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(middleware::from_fn(render_errors))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &http::Request<Body>| {
                let request_id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", request_id, method = %req.method(), path = req.uri().path())
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(FilegateRequestId))
        // The id is ours to give: a client's own x-request-id would otherwise be kept and
        // could forge or collide with ids in logs and audit rows.
        .layer(middleware::map_request(|mut req: Request| async move {
            req.headers_mut().remove("x-request-id");
            req
        }))
        .layer(tower::util::option_layer(cors))
}

/// `201 Created` with a JSON body.
pub struct Created<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}

impl IntoResponse for crate::upload::FileUploadList {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::CreateFilesRequest;

    #[test]
    fn query_errors_name_the_parameter() {
        use crate::organize::ListFilesQuery;
        let e = parse_query::<ListFilesQuery>("folder=root&colour=red").unwrap_err();
        assert_eq!((e.code(), e.param()), ("unknown_parameter", Some("colour")));
        let e = parse_query::<ListFilesQuery>("limit=1&limit=2").unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("duplicate_parameter", Some("limit"))
        );
        let q = parse_query::<ListFilesQuery>("folder=root&parent_id=a%20b").unwrap();
        assert_eq!(q.parent_id.as_deref(), Some("a b"));
    }

    fn err(json: &str) -> (&'static str, Option<String>) {
        let e = parse_json::<CreateFilesRequest>(json.as_bytes()).unwrap_err();
        (e.code(), e.param().map(str::to_owned))
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(err("{"), ("invalid_json", None));
        assert_eq!(err(r#"{"files": []} x"#), ("invalid_json", None));
        assert_eq!(err("[]"), ("invalid_body", None));
        assert_eq!(
            err(r#"{"files": [], "color": 1}"#),
            ("unknown_field", Some("color".into()))
        );
        assert_eq!(
            err(r#"{"folder": null}"#),
            ("missing_field", Some("files".into()))
        );
        assert_eq!(
            err(r#"{"files": 5}"#),
            ("invalid_type", Some("files".into()))
        );
        assert_eq!(
            err(r#"{"files": [{"name":"a","content_type":"a/b","size_bytes":1,"x":1}]}"#),
            ("unknown_field", Some("files[0].x".into()))
        );
        assert_eq!(
            err(r#"{"files": [{"name":"a","content_type":"a/b"}]}"#),
            ("missing_field", Some("files[0].size_bytes".into()))
        );
        assert_eq!(
            err(r#"{"files": [{"name":7,"content_type":"a/b","size_bytes":1}]}"#),
            ("invalid_type", Some("files[0].name".into()))
        );
        assert_eq!(
            err(r#"{"files": [{"name":"a","content_type":"a/b","size_bytes":true}]}"#),
            ("invalid_type", Some("files[0].size_bytes".into()))
        );
        assert_eq!(
            err(r#"{"files": [{"name":"a","content_type":"a/b","size_bytes":1,"public":"yes"}]}"#),
            ("invalid_type", Some("files[0].public".into()))
        );
        let e = parse_json::<crate::organize::UpdateFileRequest>(br#"{"folder": 5}"#).unwrap_err();
        assert_eq!((e.code(), e.param()), ("invalid_type", Some("folder")));
        let e = parse_json::<crate::upload::CreateFileRequest>(
            br#"{"name":"a","name":"b","content_type":"a/b","size_bytes":1}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), "duplicate_field");
    }
}

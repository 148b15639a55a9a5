//! Extractors that turn a request's parts into checked values, and every way they can be
//! wrong into an [`ApiError`] naming the field: JSON bodies, path ids, query parameters,
//! credentials and the request's origin.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use filegate_core::authentication::{Authenticator, Credential};
use filegate_domain::DomainError;
use filegate_domain::audit::RequestOrigin;
use filegate_domain::principal::Caller;
use http::request::Parts;
use http::{StatusCode, header};
use serde::de::DeserializeOwned;
use tower_http::request_id::RequestId;

use filegate_wire::json_shape::JsonObject;

use crate::error::ApiError;

/// Largest JSON body accepted: a full batch of ten files with long names fits many times over.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// The header API keys are sent in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The authenticated caller: `Authorization: Bearer <JWT>` or `X-API-Key: <secret>`, exactly
/// one of them, verified by the state's [`Authenticator`].
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let credential = credential(parts)?;
        let caller = Arc::<Authenticator>::from_ref(state)
            .authenticate(credential)
            .await?;
        Ok(Self(caller))
    }
}

/// The one credential a request sends, read from its headers.
fn credential(parts: &Parts) -> Result<Credential<'_>, DomainError> {
    let bearer = parts.headers.get(header::AUTHORIZATION);
    let api_key = parts.headers.get(API_KEY_HEADER);
    match (bearer, api_key) {
        (Some(header), None) => header
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .map(Credential::Bearer)
            .ok_or_else(|| {
                DomainError::unauthenticated(
                    "invalid_token",
                    "the Authorization header must be 'Bearer <token>'",
                )
            }),
        (None, Some(key)) => key
            .to_str()
            .map(|key| Credential::ApiKey(key.trim()))
            .map_err(|_| {
                DomainError::unauthenticated("invalid_api_key", "the API key is not valid")
            }),
        (Some(_), Some(_)) => Err(DomainError::unauthenticated(
            "ambiguous_credentials",
            "send either Authorization or X-API-Key, not both",
        )),
        (None, None) => Err(DomainError::unauthenticated(
            "missing_credentials",
            "send an Authorization: Bearer <token> or an X-API-Key header",
        )),
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
        Ok(JsonBody(parse_json(&bytes)?))
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
            (false, true) => Ok(OptionalJsonBody(parse_json(&bytes)?)),
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
    DomainError::unsupported_media_type(
        "unsupported_media_type",
        "send the body as Content-Type: application/json",
    )
    .into()
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            DomainError::too_large(
                "request_too_large",
                format!("the request body must be at most {MAX_JSON_BODY} bytes"),
            )
            .into()
        } else {
            DomainError::invalid("invalid_body", "the request body could not be read").into()
        }
    })
}

/// Deserializes JSON, turning serde's error into an [`ApiError`] whose `param` is the path of
/// the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DomainError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: JsonObject<T> = serde_path_to_error::deserialize(&mut de).map_err(|err| {
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
            Category::Syntax | Category::Eof | Category::Io => DomainError::invalid(
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
                    DomainError::invalid("unknown_field", message).with_param(path)
                } else if message.starts_with("duplicate field") {
                    DomainError::invalid("duplicate_field", message).with_param(path)
                } else if let Some(param) = field("missing field `") {
                    DomainError::invalid("missing_field", message).with_param(param)
                } else if path == "." {
                    DomainError::invalid("invalid_body", message)
                } else {
                    DomainError::invalid("invalid_type", message).with_param(path)
                }
            }
        }
    })?;
    // Trailing data after the value is malformed JSON too.
    de.end().map_err(|_| {
        DomainError::invalid("invalid_json", "the body has data after the JSON value")
    })?;
    let JsonObject(value) = value;
    Ok(value)
}

/// A typed id (`file_…`, `fldr_…`, `key_…`) from the path; anything else is
/// `400 invalid_id` on `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<S, T> FromRequestParts<S> for PathId<T>
where
    S: Send + Sync,
    T: std::str::FromStr<Err = DomainError>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| {
                    DomainError::invalid("invalid_id", "the path has no valid id").with_param("id")
                })?;
        raw.parse()
            .map(PathId)
            .map_err(|e: DomainError| e.with_param("id").into())
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
        Ok(QueryParams(parse_query(
            parts.uri.query().unwrap_or_default(),
        )?))
    }
}

/// Deserializes a query string, with the error codes of [`parse_json`].
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, DomainError> {
    serde_urlencoded::from_str(query).map_err(|e| {
        let message = e.to_string();
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned)
        };
        if let Some(param) = named("unknown field `") {
            DomainError::invalid(
                "unknown_parameter",
                format!("unknown query parameter {param}"),
            )
            .with_param(param)
        } else if let Some(param) = named("duplicate field `") {
            DomainError::invalid(
                "duplicate_parameter",
                format!("query parameter {param} is given more than once"),
            )
            .with_param(param)
        } else {
            DomainError::invalid(
                "invalid_query",
                format!("the query string is not valid: {message}"),
            )
        }
    })
}

/// Where the request came from, for the audit trail.
#[derive(Debug, Clone)]
pub struct Origin(pub RequestOrigin);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
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
        Ok(Self(RequestOrigin {
            request_id,
            ip,
            user_agent,
        }))
    }
}

pub(crate) fn request_id_of(parts: &Parts) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::upload::CreateFilesRequest;

    #[test]
    fn query_errors_name_the_parameter() {
        use crate::wire::file::ListFilesQuery;
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
        let e =
            parse_json::<crate::wire::file::UpdateFileRequest>(br#"{"folder": 5}"#).unwrap_err();
        assert_eq!((e.code(), e.param()), ("invalid_type", Some("folder")));
        let e = parse_json::<crate::wire::upload::CreateFileRequest>(
            br#"{"name":"a","name":"b","content_type":"a/b","size_bytes":1}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), "duplicate_field");
    }
}

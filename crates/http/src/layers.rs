//! What every function's router shares around its routes: request ids, the error renderer,
//! tracing, CORS, the body limit, draining unread bodies and the 404 fallback.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use filegate_domain::DomainError;
use filegate_domain::ids::next_ulid;
use http::{HeaderValue, Method, StatusCode, header};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt as _;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::ApiError;
use crate::extract::{API_KEY_HEADER, MAX_JSON_BODY, request_id_of};

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
        let id = from_gateway.unwrap_or_else(|| format!("req_{}", next_ulid()));
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
            ApiError::from(DomainError::method_not_allowed())
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

/// Most of a request body its route left unread (refused before reading it, or never
/// reading one) that is read and dropped, so that a keep-alive client's connection stays
/// usable; closing it with unread bytes would reset it, and the client could lose even the
/// answer. Past this, or after [`DRAIN_TIMEOUT`], the answer says `Connection: close`.
const MAX_DRAINED_BODY: u64 = 16 * 1024 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What a route left of a request body: the rest, and whether it read any of it.
struct Leftover {
    body: Body,
    started: bool,
}

/// A request body that, dropped before its end, leaves the rest in `leftover`.
struct UnreadBody {
    inner: Option<Body>,
    started: bool,
    leftover: Arc<Mutex<Option<Leftover>>>,
}

impl http_body::Body for UnreadBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.started = true;
        match self.inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for UnreadBody {
    fn drop(&mut self) {
        if let Some(body) = self.inner.take()
            && !http_body::Body::is_end_stream(&body)
            && let Ok(mut leftover) = self.leftover.lock()
        {
            *leftover = Some(Leftover {
                body,
                started: self.started,
            });
        }
    }
}

/// Reads what the route left of the request body, up to [`MAX_DRAINED_BODY`]; `false` when
/// it could not be read to its end.
async fn drain(mut body: Body) -> bool {
    if http_body::Body::size_hint(&body).lower() > MAX_DRAINED_BODY {
        return false;
    }
    let read_to_end = async {
        let mut read = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > MAX_DRAINED_BODY {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIMEOUT, read_to_end)
        .await
        .unwrap_or(false)
}

/// Drains the body a route did not read before the answer goes out, or marks the answer
/// `Connection: close` when that is not possible. A client waiting for `100 Continue` whose
/// body was never asked for is not asked now: it would send the whole body for a refusal.
async fn drain_unread_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let leftover = Arc::new(Mutex::new(None));
    let body = Body::new(UnreadBody {
        inner: Some(body),
        started: false,
        leftover: Arc::clone(&leftover),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let unread = leftover.lock().ok().and_then(|mut l| l.take());
    if let Some(Leftover { body, started }) = unread
        && ((expects_continue && !started) || !drain(body).await)
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn route_not_found() -> ApiError {
    DomainError::not_found("route_not_found", "no such route; see /openapi.json").into()
}

/// Wraps a function's routes in the layers every function shares. Call it once on the whole
/// router (the local API calls it on the merged router).
pub fn with_common_layers(router: Router<()>, cors_allowed_origins: &[String]) -> Router<()> {
    let cors = (!cors_allowed_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = cors_allowed_origins
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
                header::HeaderName::from_static(API_KEY_HEADER),
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
            .max_age(Duration::from_secs(600))
    });
    router
        .fallback(route_not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(middleware::from_fn(render_errors))
        .layer(middleware::from_fn(drain_unread_body))
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

//! What every function's router shares around its routes: request ids, the error renderer,
//! tracing, CORS, the body limit and the 404 fallback.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use filegate_domain::DomainError;
use filegate_domain::ids::next_ulid;
use http::{HeaderValue, Method, StatusCode, header};
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

//! The local API: every function's router merged into one axum server, run against an AWS
//! emulator. It is exactly the code the Lambdas run (the same routers, the same S3-event
//! handler), plus what Lambda and SAM provide in AWS: an HTTP server, the SQS event source,
//! and the resources.

pub mod dev_signing_key;
pub mod emulator;
pub mod events;
pub mod provision;

use aws_config::SdkConfig;
use axum::Router;
use axum::routing::get;
use filegate_http::{AppState, ErrorBody};
use filegate_proxy_client::PresignedProxy;
use filegate_store::clients::{AwsClients, emulator_sdk_config};
use filegate_store::config::{AuthConfig, Config};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The JWT secret the local API uses when `FILEGATE_JWT_SECRET` is not set. Local only.
pub const DEV_JWT_SECRET: &str = "filegate-local-development-secret-not-for-production";

/// Seals the local API's list cursors.
pub const DEV_CURSOR_SECRET: &str = "filegate-local-development-cursor-secret-not-for-production";

/// The issuer of the development RS256 tokens (`token --key`) when a JWKS URL is set.
pub const DEV_ISSUER: &str = "filegate-local";

/// A setting as the local API sees it: the environment's, else a [`LOCAL_DEFAULTS`] entry,
/// except the development JWT secret when the environment names a JWKS URL.
pub fn local_setting(lookup: impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    let set = |n: &str| lookup(n).filter(|v| !v.trim().is_empty());
    set(name).or_else(|| {
        let jwks = set("FILEGATE_JWT_JWKS_URL").is_some();
        if name == "FILEGATE_JWT_SECRET" && jwks {
            return None;
        }
        // A JWKS needs an issuer; `token --key` signs tokens with this one.
        if name == "FILEGATE_JWT_ISSUER" && jwks {
            return Some(DEV_ISSUER.to_owned());
        }
        LOCAL_DEFAULTS
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

/// Settings the local API fills in when the environment leaves them unset.
pub const LOCAL_DEFAULTS: &[(&str, &str)] = &[
    ("AWS_REGION", "us-east-1"),
    ("FILEGATE_TABLE", "filegate-local"),
    ("FILEGATE_BUCKET", "filegate-local"),
    // Filled in only when no JWKS URL is set (see `local_setting`): a JWKS-only local API
    // accepts nothing else.
    ("FILEGATE_JWT_SECRET", DEV_JWT_SECRET),
    ("FILEGATE_CURSOR_SECRET", DEV_CURSOR_SECRET),
    // An emulator on a busy laptop can be slower than AWS: more patience than in Lambda.
    ("FILEGATE_AWS_ATTEMPT_TIMEOUT_MS", "20000"),
    ("FILEGATE_AWS_OPERATION_TIMEOUT_MS", "60000"),
];

/// All routes of all functions, in the layers each Lambda wraps its own in, plus
/// `GET /openapi.json`.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .merge(filegate_presign::router(state.clone()))
        .merge(filegate_finalize::router(state.clone()))
        .merge(filegate_metadata::router(state.clone()))
        .merge(filegate_proxy::router(
            state.clone(),
            PresignedProxy::from_config(&state.config),
        ))
        .route("/openapi.json", get(|| async { axum::Json(openapi()) }));
    state.serve(router)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "filegate",
        description = "A serverless file API in front of a private S3 bucket: presigned uploads, \
                       verified finalize, metadata, downloads, and a streaming proxy for clients \
                       that cannot reach S3. Errors always have the shape of `Error`; every \
                       response carries `x-request-id`. Deployed with SAM, the two streaming \
                       routes (`/v1/proxy/file`, `/v1/files/{id}/content`) are served from the \
                       proxy function's URL (stack output `ProxyUrl`), the others from the HTTP \
                       API (`ApiUrl`).",
        license(name = "Apache-2.0")
    ),
    servers((url = "http://127.0.0.1:3000", description = "Local API (README)")),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "files", description = "Uploads, downloads, file metadata and audit trail"),
        (name = "folders", description = "Folders that files and other folders live in"),
        (name = "api_keys", description = "Keys an organisation's servers send as X-API-Key (scope admin)"),
        (name = "proxy", description = "S3 objects streamed through the API for clients that cannot reach S3"),
    )
)]
struct BaseApi;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT with `sub`, `org` (claim name or JSON pointer configurable), `exp`, optional \
                         `scope` (or `scp`): HS256 with the deployment's secret \
                         (`FILEGATE_JWT_SECRET`), or RS256 / ES256 / EdDSA with a key of the \
                         identity provider's JWKS (`FILEGATE_JWT_JWKS_URL`), named by `kid`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A secret from POST /v1/api_keys; acts as its organisation with its scopes",
            ))),
        );
    }
}

/// The OpenAPI document of every route (committed as `openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = BaseApi::openapi();
    doc.merge(filegate_presign::PresignApi::openapi());
    doc.merge(filegate_finalize::FinalizeApi::openapi());
    doc.merge(filegate_metadata::MetadataApi::openapi());
    doc.merge(filegate_proxy::ProxyApi::openapi());
    describe_id_shapes(&mut doc);
    doc
}

/// Gives ids their exact shape in the document, so clients generated from it, and fuzzers,
/// know what is well-formed (anything else is `400 invalid_id`): every `{id}` in a path,
/// and every `folder` or `parent` that is a folder id (in a query, also `root`).
fn describe_id_shapes(doc: &mut utoipa::openapi::OpenApi) {
    use filegate_domain::ids::{ApiKeyId, FileId, FolderId, id_pattern};
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    let folder = id_pattern(FolderId::PREFIX);
    let folder_or_root = format!("^(root|{})$", folder.trim_matches(['^', '$']));
    let string_with = |pattern: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
    };
    for (path, item) in &mut doc.paths.paths {
        let path_id = [
            ("/v1/files/", FileId::PREFIX),
            ("/v1/folders/", FolderId::PREFIX),
            ("/v1/api_keys/", ApiKeyId::PREFIX),
        ]
        .into_iter()
        .find_map(|(start, prefix)| path.starts_with(start).then(|| id_pattern(prefix)));
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                let pattern = match (&parameter.parameter_in, parameter.name.as_str()) {
                    (ParameterIn::Path, "id") => path_id.as_deref(),
                    (ParameterIn::Query, "folder" | "parent") => Some(folder_or_root.as_str()),
                    _ => None,
                };
                if let Some(pattern) = pattern {
                    parameter.schema = Some(string_with(pattern).into());
                }
            }
        }
    }
    let schemas = doc
        .components
        .iter_mut()
        .flat_map(|c| c.schemas.values_mut());
    for schema in schemas {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (name, property) in &mut object.properties {
            if let ("folder" | "parent", RefOr::T(Schema::Object(field))) =
                (name.as_str(), property)
                && field.pattern.is_none()
                && match &field.schema_type {
                    SchemaType::Type(t) => *t == Type::String,
                    SchemaType::Array(types) => types.contains(&Type::String),
                    SchemaType::AnyValue => false,
                }
            {
                field.pattern = Some(folder.clone());
            }
        }
    }
}

/// A provisioned local deployment: resources created, clients and state built.
pub struct Deployment {
    pub state: AppState,
    pub sdk: SdkConfig,
    pub queue_url: String,
}

impl Deployment {
    /// Creates the table, queue and bucket `config` names in the emulator at
    /// `config.endpoint_url`, and builds the state the routers run on.
    pub async fn create(
        config: Config,
        auth: &AuthConfig,
        queue_name: &str,
    ) -> Result<Self, provision::ProvisionError> {
        let sdk = emulator_sdk_config(&config).await;
        let queue_url = provision::provision(&sdk, &config, queue_name).await?;
        let clients = AwsClients::from_sdk_config(&sdk, &config);
        Ok(Self {
            state: AppState::new(config, auth, &clients),
            sdk,
            queue_url,
        })
    }

    /// Sweeps every `every`, as the scheduled sweeper function does in AWS.
    pub fn spawn_sweeper(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let files = self.state.files.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let origin = filegate_domain::audit::RequestOrigin {
                    request_id: format!("sweep_{}", filegate_domain::ids::next_ulid()),
                    ..Default::default()
                };
                let report = files
                    .sweep(&origin, filegate_domain::timestamp::Timestamp::now(), 5_000)
                    .await;
                tracing::info!(%report, "sweep done");
            }
        })
    }

    /// Runs the S3-event finalizer on the queue, as Lambda's event source mapping would.
    pub fn spawn_event_poller(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(events::poll_upload_events(
            aws_sdk_sqs::Client::new(&self.sdk),
            self.queue_url.clone(),
            self.state.files.clone(),
        ))
    }
}

#[derive(Serialize)]
struct DevClaims<'a> {
    sub: &'a str,
    org: &'a str,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
}

/// Signs an HS256 token for local use and tests.
pub fn mint_token(
    secret: &str,
    org: &str,
    sub: &str,
    scope: Option<&str>,
    ttl_secs: i64,
) -> String {
    sign_claims(secret, &dev_claims(org, sub, scope, ttl_secs))
}

/// The claims of a development token: `sub`, `org`, `exp` and an optional `scope`.
pub fn dev_claims<'a>(
    org: &'a str,
    sub: &'a str,
    scope: Option<&'a str>,
    ttl_secs: i64,
) -> impl Serialize + 'a {
    dev_claims_from(org, sub, scope, ttl_secs, None)
}

/// [`dev_claims`] with an `iss`.
pub fn dev_claims_from<'a>(
    org: &'a str,
    sub: &'a str,
    scope: Option<&'a str>,
    ttl_secs: i64,
    iss: Option<&'a str>,
) -> impl Serialize + 'a {
    DevClaims {
        sub,
        org,
        exp: filegate_domain::timestamp::Timestamp::now().unix_seconds() + ttl_secs,
        scope,
        iss,
    }
}

/// Signs any claims as an HS256 token (tests use it for claims `mint_token` does not set).
pub fn sign_claims(secret: &str, claims: &impl Serialize) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing of plain claims cannot fail")
}

//! [`AppState`]: everything a handler needs, built once per process (per Lambda container).

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use filegate_core::FileService;
use filegate_core::api_keys::ApiKeys;
use filegate_core::authentication::{Authenticator, TokenVerifier};
use filegate_core::cursors::Cursors;
use filegate_core::lists::Lists;
use filegate_store::clients::AwsClients;
use filegate_store::config::{AuthConfig, Config, ConfigError};

use crate::layers::with_common_layers;

#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

#[derive(Debug)]
pub struct Services {
    pub files: FileService,
    pub lists: Lists,
    pub api_keys: ApiKeys,
    pub authenticator: Arc<Authenticator>,
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
            lists: Lists::new(files.clone(), Cursors::derive(&auth.cursor_secret)),
            api_keys,
            files,
            config,
        }))
    }

    /// Config from the environment and AWS clients, once per process (Lambda container).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let auth = AuthConfig::from_env()?;
        let clients = AwsClients::from_config(&config).await;
        Ok(Self::new(config, &auth, &clients))
    }

    /// `router` inside the layers every function shares.
    pub fn serve(&self, router: Router<()>) -> Router<()> {
        with_common_layers(router, &self.config.cors_allowed_origins)
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

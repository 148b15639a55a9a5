//! The filegate HTTP API as the command line uses it: one credential, the error document of
//! API.md turned into [`ApiError`], and the requests the commands make.

use filegate_wire::error::ErrorBody;
use filegate_wire::list::List;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How the client proves who it is.
#[derive(Clone)]
pub enum Credential {
    Token(String),
    ApiKey(String),
}

/// What went wrong talking to the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with its error document.
    #[error("{code}: {message}{}", param.as_ref().map(|p| format!(" ({p})")).unwrap_or_default())]
    Refused {
        status: u16,
        code: String,
        message: String,
        param: Option<String>,
    },
    #[error("could not reach {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected answer from the API ({status}): {body}")]
    Unexpected { status: u16, body: String },
}

impl ApiError {
    /// What to do about the common refusals, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        let ApiError::Refused { code, .. } = self else {
            return Some("check --url (or FILEGATE_URL) and that the API is running");
        };
        match code.as_str() {
            "missing_credentials" | "invalid_token" | "token_expired" | "invalid_api_key" => {
                Some("pass a valid --token or --api-key (FILEGATE_TOKEN, FILEGATE_API_KEY)")
            }
            "insufficient_scope" => {
                Some("this credential lacks the scope; files:write uploads, admin manages keys")
            }
            "file_too_large" => {
                Some("the deployment's FILEGATE_MAX_UPLOAD_BYTES is lower than this file")
            }
            _ => None,
        }
    }
}

/// The API at `base` with one credential.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    credential: Credential,
}

impl Api {
    pub fn new(base: &str, credential: Credential) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            credential,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The HTTP client, for the presigned S3 URLs (which take no credential).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.credential {
            Credential::Token(token) => request.bearer_auth(token),
            Credential::ApiKey(key) => request.header("x-api-key", key),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// A GET with query parameters.
    pub async fn get_with<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.send(self.request(reqwest::Method::GET, path).query(query))
            .await
    }

    /// Every item of a list, page after page (`next_cursor`), in order.
    pub async fn for_each_item<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut each: impl FnMut(T),
    ) -> Result<(), ApiError> {
        let mut cursor: Option<String> = None;
        loop {
            let mut page_query = query.to_vec();
            if let Some(c) = &cursor {
                page_query.push(("cursor", c.clone()));
            }
            let page: List<T> = self.get_with(path, &page_query).await?;
            page.data.into_iter().for_each(&mut each);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// A POST without a body (finalize).
    pub async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.send(self.request(reqwest::Method::POST, path)).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        self.send(self.request(reqwest::Method::PATCH, path).json(body))
            .await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// Sends a request and reads its JSON answer, or the API's error document.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = request
            .send()
            .await
            .map_err(|source| ApiError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|source| ApiError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|_| ApiError::Unexpected {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(document) => Err(ApiError::Refused {
                status,
                code: document.error.code,
                message: document.error.message,
                param: document.error.param,
            }),
            Err(_) => Err(ApiError::Unexpected {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            }),
        }
    }
}

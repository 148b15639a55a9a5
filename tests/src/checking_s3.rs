//! An S3 that checks SigV4 signatures and presigned-URL expiry as AWS does (moto checks
//! neither): the `s3s` crate's file-system S3 over a temporary directory, inside the test
//! process, on 127.0.0.1 and a free port. Dropping it stops it and deletes its files.

use std::path::PathBuf;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// The keys it accepts: the ones `filegate_store::clients::emulator_sdk_config` signs with.
const ACCESS_KEY: &str = "test";
const SECRET_KEY: &str = "test";

pub struct CheckingS3 {
    endpoint: String,
    root: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

impl CheckingS3 {
    pub async fn start() -> Self {
        let root = std::env::temp_dir().join(format!(
            "filegate-checking-s3-{}",
            ulid::Ulid::generate().to_string().to_lowercase()
        ));
        std::fs::create_dir_all(&root).expect("temporary directory");
        let mut builder = S3ServiceBuilder::new(s3s_fs::FileSystem::new(&root).expect("s3s-fs"));
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Self {
            endpoint,
            root,
            server,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for CheckingS3 {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

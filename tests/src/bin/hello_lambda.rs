//! The cold-start baseline: a hello-world `lambda_http` function with nothing else. The
//! `cold_start` bench compares every filegate function's init time with this one's.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}

//! End-to-end tests: the real routers over HTTP against the emulator, with real PUTs of bytes
//! to presigned URLs. One binary, so the emulator starts once per run.

mod auth;
mod events;
mod finalize;
mod openapi;
mod upload;
mod validation;

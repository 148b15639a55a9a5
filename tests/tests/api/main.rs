//! End-to-end tests: the real routers over HTTP against the emulator, with real PUTs of bytes
//! to presigned URLs. One binary, so the emulator starts once per run.

mod api_keys;
mod auth;
mod downloads;
mod emulator;
mod events;
mod faults;
mod finalize;
mod hardening;
mod harness;
mod identity;
mod isolation;
mod listing;
mod multipart;
mod openapi;
mod organize;
mod proxy;
mod retries;
mod sample_events;
mod schema_fuzzing;
mod sweeper;
mod upload;
mod validation;

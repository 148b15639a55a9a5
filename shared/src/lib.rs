//! filegate's shared crate: the domain, the rules and the AWS plumbing every function uses.
//! Function crates parse requests, call into this crate and shape responses; nothing else.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod config;
pub mod download;
pub mod error;
pub mod files;
pub mod folders;
pub mod http;
pub mod ids;
pub mod lifecycle;
pub mod listing;
pub mod objects;
pub mod organize;
pub mod presigned;
pub mod proxy;
pub mod service;
pub mod store;
pub mod streaming;
pub mod telemetry;
pub mod timestamp;
pub mod upload;

//! `filegate`: the command-line client of a filegate API.

// A command-line tool: what it prints is its interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod folders;
mod profiles;
mod progress;
mod resume;
mod transfer;
mod upload;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use filegate_domain::file::Parent;
use filegate_wire::api_key::{ApiKeyObject, CreateApiKeyRequest, DeletedApiKey, NewApiKey};
use filegate_wire::audit::AuditEventObject;
use filegate_wire::download::{DownloadUrlRequest, FileDownload};
use filegate_wire::file::{DeletedFile, FileObject, UpdateFileRequest};
use filegate_wire::folder::{CreateFolderRequest, FolderObject};
use serde::Serialize;

use api::{Api, ApiError, Credential};
use folders::FolderTree;
use upload::{UploadOptions, upload_file};

#[derive(Parser)]
#[command(
    name = "filegate",
    version,
    about = "Upload, download and organise files in a filegate API"
)]
struct Cli {
    /// The API's base URL (default: the profile's, else http://127.0.0.1:3000).
    #[arg(long, env = "FILEGATE_URL", global = true)]
    url: Option<String>,
    /// The profile whose URL and credential to use (see `filegate config`).
    #[arg(
        long,
        env = "FILEGATE_PROFILE",
        default_value = "default",
        global = true
    )]
    profile: String,
    /// A bearer token (JWT).
    #[arg(long, env = "FILEGATE_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// An API key, instead of a token.
    #[arg(
        long,
        env = "FILEGATE_API_KEY",
        hide_env_values = true,
        global = true,
        conflicts_with = "token"
    )]
    api_key: Option<String>,
    /// One JSON document per result (JSON lines for lists) instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars (there are none either when stdout is not a terminal).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Upload files and directories (recreated as folders): one PUT or parts in parallel, as
    /// the API decides; SHA-256 declared; an interrupted upload resumes on the next run.
    Upload {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The folder id to upload into.
        #[arg(long)]
        folder: Option<String>,
        /// A folder path (`A/B`) to upload into, below `--folder` or the top; folders that
        /// are not there are created.
        #[arg(long)]
        folder_path: Option<String>,
        /// The entity of your own domain the files belong to, as `TYPE:ID`.
        #[arg(long, value_parser = parse_parent)]
        parent: Option<Parent>,
        /// Served at a public URL (when the deployment allows public files).
        #[arg(long)]
        public: bool,
        /// Parts in flight at once for a multipart upload.
        #[arg(long, default_value_t = 4)]
        parallel: usize,
    },
    /// Download a file, checking its SHA-256 when it has one; a partial download left by an
    /// interrupted run is resumed.
    Download {
        id: String,
        /// Where to write it (default: the file's name, in the current directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List files, newest first.
    Ls {
        /// A folder id, or `root`.
        #[arg(long)]
        folder: Option<String>,
        /// pending, uploaded, processing, ready or failed.
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one file.
    Info { id: String },
    /// A download URL for a file (presigned; valid `--expires` seconds).
    Url {
        id: String,
        /// Served as an attachment (a download) rather than inline.
        #[arg(long)]
        attachment: bool,
        /// 60 to 3600 seconds.
        #[arg(long, default_value_t = 300)]
        expires: u64,
    },
    /// Move a file into a folder (`root` for the top).
    Mv {
        id: String,
        /// A folder id, or `root`.
        folder: String,
    },
    /// Rename a file.
    Rename { id: String, name: String },
    /// Create a folder.
    Mkdir {
        name: String,
        /// The parent folder's id (default: the top).
        #[arg(long)]
        parent: Option<String>,
    },
    /// A file's audit trail, oldest first.
    Audit { id: String },
    /// Delete a file (its bytes and its metadata).
    Rm { id: String },
    /// API keys of the organisation (scope `admin`).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The profile's settings, kept in the configuration directory.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Set the profile's url, token or api-key (a token replaces an API key, and back).
    Set {
        setting: profiles::Setting,
        value: String,
    },
    /// Show the profile, secrets masked.
    Show,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; its secret is printed once, now.
    Create {
        name: String,
        /// files:read, files:write, admin (repeat, or comma-separate).
        #[arg(long, value_delimiter = ',', default_values_t = ["files:read".to_owned(), "files:write".to_owned()])]
        scopes: Vec<String>,
    },
    /// List keys (never their secrets).
    Ls,
    /// Revoke a key: it is refused at once.
    Revoke { id: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Config(command) = &cli.command {
        return configure(&cli.profile, command, cli.json);
    }
    // reqwest's TLS without a default crypto provider: this binary uses ring, as the API does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let profile = profiles::load(&cli.profile);
    let flags = (cli.token.clone(), cli.api_key.clone());
    let credential = match flags {
        (Some(token), _) => Credential::Token(token),
        (None, Some(key)) => Credential::ApiKey(key),
        (None, None) => match (profile.token, profile.api_key) {
            (Some(token), _) => Credential::Token(token),
            (None, Some(key)) => Credential::ApiKey(key),
            (None, None) => {
                eprintln!(
                    "error: no credential: pass --token or --api-key (or set FILEGATE_TOKEN / FILEGATE_API_KEY, or `filegate config set token …`)"
                );
                return ExitCode::from(2);
            }
        },
    };
    let url = cli
        .url
        .clone()
        .or(profile.url)
        .unwrap_or_else(|| "http://127.0.0.1:3000".to_owned());
    let api = Api::new(&url, credential);
    match run(&api, &cli).await {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// `filegate config set|show`: no request, no credential needed.
fn configure(profile: &str, command: &ConfigCommand, json: bool) -> ExitCode {
    match command {
        ConfigCommand::Set { setting, value } => match profiles::set(profile, *setting, value) {
            Ok(path) => {
                println!("profile {profile} saved in {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: could not save the profile: {e}");
                ExitCode::FAILURE
            }
        },
        ConfigCommand::Show => {
            let p = profiles::load(profile);
            let masked = |s: &Option<String>| s.as_ref().map(|_| "(set, not shown)");
            let shown = serde_json::json!({
                "profile": profile,
                "url": p.url,
                "token": masked(&p.token),
                "api_key": masked(&p.api_key),
            });
            match json {
                true => println!("{shown}"),
                false => println!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                ),
            }
            ExitCode::SUCCESS
        }
    }
}

fn report(e: &ApiError) {
    eprintln!("error: {e}");
    if let Some(hint) = e.hint() {
        eprintln!("hint: {hint}");
    }
}

async fn run(api: &Api, cli: &Cli) -> Result<ExitCode, ApiError> {
    match &cli.command {
        Command::Upload {
            paths,
            folder,
            folder_path,
            parent,
            public,
            parallel,
        } => {
            let options = UploadOptions {
                parallel: *parallel,
                parent: parent.clone(),
                public: *public,
            };
            let mut folders = FolderTree::new(api);
            let folder = match folder_path {
                Some(path) => folders.path(folder.as_deref(), path).await?,
                None => folder.clone(),
            };
            let files = match upload::expand(&mut folders, paths, folder).await {
                Ok(files) => files,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let mut state = resume::ResumeState::load();
            let sizes: Vec<u64> = files
                .iter()
                .map(|(p, _)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
                .collect();
            let visible = std::io::stdout().is_terminal() && !cli.quiet;
            let bars = progress::Progress::new(visible, sizes.len(), sizes.iter().sum());
            let mut failed = Vec::new();
            for ((path, folder), size) in files.iter().zip(sizes) {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let meter = bars.file(name.as_deref().unwrap_or("file"), size);
                let uploaded =
                    upload_file(api, path, folder.as_deref(), &options, &mut state, &meter).await;
                meter.done();
                match uploaded {
                    Ok(file) => bars.println(&file_line(&file, cli.json)),
                    Err(e) => {
                        eprintln!("error: {}: {e}", path.display());
                        failed.push(path.display().to_string());
                    }
                }
            }
            bars.finish();
            if failed.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("failed: {}", failed.join(", "));
            Ok(ExitCode::FAILURE)
        }
        Command::Download { id, output } => {
            let file: FileObject = api.get(&format!("/v1/files/{id}")).await?;
            let link: FileDownload = api
                .post(
                    &format!("/v1/files/{id}/download_url"),
                    &DownloadUrlRequest {
                        attachment: Some(true),
                        expires_in: None,
                    },
                )
                .await?;
            let target = output.clone().unwrap_or_else(|| PathBuf::from(&file.name));
            let size = file.size_bytes.parse().unwrap_or(0);
            let visible = std::io::stdout().is_terminal() && !cli.quiet;
            let bars = progress::Progress::new(visible, 1, size);
            let meter = bars.file(&file.name, size);
            let written = transfer::download_to(
                api.http(),
                &link.url,
                &target,
                size,
                file.checksum_sha256.as_deref(),
                &meter,
            )
            .await;
            meter.done();
            bars.finish();
            match written {
                Ok(bytes) if cli.json => println!(
                    "{}",
                    serde_json::json!({"id": id, "path": target, "size_bytes": bytes.to_string()})
                ),
                Ok(bytes) => println!("{} ({})", target.display(), human_size(bytes)),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ls { folder, status } => {
            let mut query = vec![("limit", "100".to_owned())];
            if let Some(folder) = folder {
                query.push(("folder", folder.clone()));
            }
            if let Some(status) = status {
                query.push(("status", status.clone()));
            }
            api.for_each_item("/v1/files", &query, |file: FileObject| {
                print_file(&file, cli.json)
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { id } => {
            let file: FileObject = api.get(&format!("/v1/files/{id}")).await?;
            if cli.json {
                print_json(&file);
                return Ok(ExitCode::SUCCESS);
            }
            let size = file
                .size_bytes
                .parse()
                .map_or_else(|_| "?".to_owned(), human_size);
            let parent = file.parent.as_ref().map(|p| format!("{}:{}", p.kind, p.id));
            let rows = [
                ("id", Some(file.id.clone())),
                ("name", Some(file.name.clone())),
                ("status", Some(file.status.as_str().to_owned())),
                ("type", Some(file.content_type.clone())),
                ("size", Some(format!("{size} ({} bytes)", file.size_bytes))),
                ("sha256", file.checksum_sha256.clone()),
                ("folder", file.folder.clone()),
                ("parent", parent),
                ("public", Some(file.public.to_string())),
                ("error", file.error_message.clone()),
                ("uploaded by", Some(file.uploaded_by.clone())),
                ("created", Some(file.created_at.clone())),
                ("uploaded", file.uploaded_at.clone()),
                ("updated", Some(file.updated_at)),
            ];
            for (label, value) in rows {
                if let Some(value) = value {
                    println!("{label:<12} {value}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Url {
            id,
            attachment,
            expires,
        } => {
            let link: FileDownload = api
                .post(
                    &format!("/v1/files/{id}/download_url"),
                    &DownloadUrlRequest {
                        attachment: Some(*attachment),
                        expires_in: Some(*expires as i64),
                    },
                )
                .await?;
            match cli.json {
                true => print_json(&link),
                false => println!("{}", link.url),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Mv { id, folder } => {
            let folder = (folder != "root").then(|| folder.clone());
            let file: FileObject = api
                .patch(
                    &format!("/v1/files/{id}"),
                    &UpdateFileRequest {
                        name: None,
                        folder: Some(folder),
                    },
                )
                .await?;
            print_file(&file, cli.json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Rename { id, name } => {
            let file: FileObject = api
                .patch(
                    &format!("/v1/files/{id}"),
                    &UpdateFileRequest {
                        name: Some(name.clone()),
                        folder: None,
                    },
                )
                .await?;
            print_file(&file, cli.json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Mkdir { name, parent } => {
            let folder: FolderObject = api
                .post(
                    "/v1/folders",
                    &CreateFolderRequest {
                        name: name.clone(),
                        parent: parent.clone(),
                    },
                )
                .await?;
            match cli.json {
                true => print_json(&folder),
                false => println!("{}  {}", folder.id, folder.name),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { id } => {
            let query = [("limit", "100".to_owned())];
            api.for_each_item(
                &format!("/v1/files/{id}/audit"),
                &query,
                |event: AuditEventObject| match cli.json {
                    true => print_json(&event),
                    false => println!(
                        "{}  {:<26}  {}",
                        event.at,
                        // The action's wire name (`file.renamed`).
                        serde_json::to_value(event.action)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        event.actor.id()
                    ),
                },
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Create { name, scopes }) => {
            let key: NewApiKey = api
                .post(
                    "/v1/api_keys",
                    &CreateApiKeyRequest {
                        name: name.clone(),
                        scopes: scopes.clone(),
                    },
                )
                .await?;
            match cli.json {
                true => print_json(&key),
                false => println!(
                    "{}  {}\nsecret (shown once): {}",
                    key.key.id, key.key.name, key.secret
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Ls) => {
            let query = [("limit", "100".to_owned())];
            api.for_each_item("/v1/api_keys", &query, |key: ApiKeyObject| match cli.json {
                true => print_json(&key),
                false => println!(
                    "{}  {:<24}  {}",
                    key.id,
                    key.name,
                    key.scopes
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Revoke { id }) => {
            let revoked: DeletedApiKey = api.delete(&format!("/v1/api_keys/{id}")).await?;
            match cli.json {
                true => print_json(&revoked),
                false => println!("revoked {id}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        // Handled before any request is made.
        Command::Config(command) => Ok(configure(&cli.profile, command, cli.json)),
        Command::Rm { id } => {
            let deleted: DeletedFile = api.delete(&format!("/v1/files/{id}")).await?;
            if cli.json {
                print_json(&deleted);
            } else {
                println!("deleted {id}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--parent TYPE:ID`, checked as the API checks it.
fn parse_parent(text: &str) -> Result<Parent, String> {
    let (kind, id) = text
        .split_once(':')
        .ok_or_else(|| "expected TYPE:ID, e.g. invoice:inv_42".to_owned())?;
    Parent::parse(kind, id).map_err(|e| e.message().to_owned())
}

/// One API object as one line of JSON.
fn print_json(value: &impl Serialize) {
    println!("{}", serde_json::to_string(value).unwrap_or_default());
}

fn print_file(file: &FileObject, json: bool) {
    println!("{}", file_line(file, json));
}

/// One file: its JSON object, or a line of id, status, size and name.
fn file_line(file: &FileObject, json: bool) -> String {
    if json {
        return serde_json::to_string(file).unwrap_or_default();
    }
    let size = file
        .size_bytes
        .parse()
        .map_or_else(|_| "?".to_owned(), human_size);
    format!(
        "{}  {:<10}  {:>10}  {}",
        file.id,
        file.status.as_str(),
        size,
        file.name
    )
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

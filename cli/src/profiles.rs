//! Named profiles: an API URL and one credential each, in `config.json` in the configuration
//! directory, set with `filegate config set`, so that scripts need no secret in their
//! environment. Flags and `FILEGATE_*` variables win over a profile.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `$FILEGATE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/filegate`, else `~/.config/filegate`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FILEGATE_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("filegate"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/filegate"))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// What `filegate config set` sets.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Setting {
    Url,
    Token,
    ApiKey,
}

fn path() -> Option<PathBuf> {
    config_dir().map(|dir| dir.join("config.json"))
}

fn read() -> ConfigFile {
    path()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The profile `name`; empty when there is none.
pub fn load(name: &str) -> Profile {
    read().profiles.remove(name).unwrap_or_default()
}

/// Sets one value of profile `name`. A profile holds one credential: a token replaces its
/// API key and the other way round. The file is readable by its owner only.
pub fn set(name: &str, setting: Setting, value: &str) -> std::io::Result<PathBuf> {
    let path = path().ok_or_else(|| std::io::Error::other("no HOME or FILEGATE_CONFIG_DIR"))?;
    let mut config = read();
    let profile = config.profiles.entry(name.to_owned()).or_default();
    match setting {
        Setting::Url => profile.url = Some(value.to_owned()),
        Setting::Token => {
            profile.token = Some(value.to_owned());
            profile.api_key = None;
        }
        Setting::ApiKey => {
            profile.api_key = Some(value.to_owned());
            profile.token = None;
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(&config).map_err(std::io::Error::other)?;
    let temporary = path.with_extension("json.tmp");
    write_private(&temporary, &bytes)?;
    std::fs::rename(&temporary, &path)?;
    Ok(path)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

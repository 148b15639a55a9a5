//! What lets an interrupted multipart upload go on where it stopped: for each local file being
//! uploaded in parts, the id of its pending file, kept in a small JSON file beside the
//! configuration and keyed by the API, the file's path, size and modification time. S3's part
//! list is the truth about what was sent; this only remembers which upload to ask about.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The uploads in progress, as saved.
pub struct ResumeState {
    path: PathBuf,
    entries: BTreeMap<String, String>,
}

impl ResumeState {
    /// The saved state; empty when there is none (or it cannot be read: resuming is a help,
    /// never a reason to fail an upload).
    pub fn load() -> Self {
        let path = crate::profiles::config_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("uploads.json");
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self { path, entries }
    }

    /// The key of a local file for `api`: a changed file (size or mtime) is a new upload.
    pub fn key(api: &str, file: &Path) -> std::io::Result<String> {
        let metadata = std::fs::metadata(file)?;
        let modified = metadata
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::fs::canonicalize(file)?;
        Ok(format!(
            "{api} {} {} {modified}",
            path.display(),
            metadata.len()
        ))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Remembers (or with `None` forgets) the file id of `key`, and saves at once: the process
    /// may be killed any moment after.
    pub fn set(&mut self, key: &str, id: Option<&str>) {
        match id {
            Some(id) => self.entries.insert(key.to_owned(), id.to_owned()),
            None => self.entries.remove(key),
        };
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // Written whole to a temporary file and renamed, so a kill never leaves half a file.
        let temporary = self.path.with_extension("json.tmp");
        if let Ok(bytes) = serde_json::to_vec_pretty(&self.entries)
            && std::fs::write(&temporary, bytes).is_ok()
        {
            let _ = std::fs::rename(&temporary, &self.path);
        }
    }
}

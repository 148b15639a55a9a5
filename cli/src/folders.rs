//! Folders by name: `A/B` found under its parent, or created when it is not there. A
//! directory upload and `--folder-path` both go through this, so that uploading the same tree
//! twice fills the folders of the first run instead of making a second tree.

use std::collections::{BTreeMap, BTreeSet};

use filegate_wire::folder::{CreateFolderRequest, FolderObject};

use crate::api::{Api, ApiError};

/// The folders seen in this run, by parent (`None`: the top) and name.
pub struct FolderTree<'a> {
    api: &'a Api,
    known: BTreeMap<(Option<String>, String), String>,
    listed: BTreeSet<Option<String>>,
}

impl<'a> FolderTree<'a> {
    pub fn new(api: &'a Api) -> Self {
        Self {
            api,
            known: BTreeMap::new(),
            listed: BTreeSet::new(),
        }
    }

    /// The id of the folder `name` inside `parent`, created if there is none. Of several
    /// with that name (the API allows it), the oldest.
    pub async fn child(&mut self, parent: Option<&str>, name: &str) -> Result<String, ApiError> {
        let parent = parent.map(str::to_owned);
        if self.listed.insert(parent.clone()) {
            let query = [
                (
                    "parent",
                    parent.clone().unwrap_or_else(|| "root".to_owned()),
                ),
                ("limit", "100".to_owned()),
            ];
            let mut children = Vec::new();
            self.api
                .for_each_item("/v1/folders", &query, |f: FolderObject| children.push(f))
                .await?;
            // Listed newest first: the oldest of a name is the one kept.
            for folder in children.into_iter().rev() {
                self.known
                    .entry((parent.clone(), folder.name))
                    .or_insert(folder.id);
            }
        }
        if let Some(id) = self.known.get(&(parent.clone(), name.to_owned())) {
            return Ok(id.clone());
        }
        let created: FolderObject = self
            .api
            .post(
                "/v1/folders",
                &CreateFolderRequest {
                    name: name.to_owned(),
                    parent: parent.clone(),
                },
            )
            .await?;
        self.known
            .insert((parent, name.to_owned()), created.id.clone());
        Ok(created.id)
    }

    /// The folder at `path` (`A/B`, `/` between names) below `start` (`None`: the top); an
    /// empty path is the start itself.
    pub async fn path(
        &mut self,
        start: Option<&str>,
        path: &str,
    ) -> Result<Option<String>, ApiError> {
        let mut at = start.map(str::to_owned);
        for name in path.split('/').filter(|n| !n.is_empty()) {
            at = Some(self.child(at.as_deref(), name).await?);
        }
        Ok(at)
    }
}

//! [`FileService`]: the file operations' business rules over the table and the bucket. The
//! upload path lives in [`crate::upload`]; later operations add their own `impl` blocks.

use crate::config::UploadPolicy;
use crate::error::ApiError;
use crate::files::FileRecord;
use crate::ids::{FileId, OrgId};
use crate::objects::ObjectStore;
use crate::store::MetadataStore;

#[derive(Debug, Clone)]
pub struct FileService {
    store: MetadataStore,
    objects: ObjectStore,
    policy: UploadPolicy,
    public_base_url: Option<String>,
}

impl FileService {
    /// The table and bucket `config` names, through `clients`.
    pub fn from_config(config: &crate::config::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(
            MetadataStore::new(clients.dynamodb.clone(), config.table.clone()),
            ObjectStore::new(
                clients.s3.clone(),
                config.bucket.clone(),
                config.uploads.encryption.clone(),
            ),
            config.uploads.clone(),
            config.public_base_url.clone(),
        )
    }

    pub fn new(
        store: MetadataStore,
        objects: ObjectStore,
        policy: UploadPolicy,
        public_base_url: Option<String>,
    ) -> Self {
        Self {
            store,
            objects,
            policy,
            public_base_url,
        }
    }

    pub fn public_base_url(&self) -> Option<&str> {
        self.public_base_url.as_deref()
    }

    pub fn policy(&self) -> &UploadPolicy {
        &self.policy
    }

    pub fn store(&self) -> &MetadataStore {
        &self.store
    }

    pub fn objects(&self) -> &ObjectStore {
        &self.objects
    }

    /// The file as stored in `org`, or 404: another organisation's file is not found either,
    /// and neither is one whose delete has started.
    pub async fn get(&self, org: &OrgId, id: &FileId) -> Result<FileRecord, ApiError> {
        self.store
            .get_file(org, id)
            .await?
            .filter(|file| file.deleting_at.is_none())
            .ok_or_else(|| file_not_found(id))
    }
}

pub fn file_not_found(id: &FileId) -> ApiError {
    ApiError::not_found("file_not_found", format!("no file {id}")).with_param("id")
}

//! [`FileService`]: the file and folder operations' business rules over the table and the
//! bucket. Each capability adds its own `impl FileService` block in its own module.

use filegate_domain::DomainError;
use filegate_domain::file::{FileRecord, file_not_found};
use filegate_domain::ids::FileId;
use filegate_domain::principal::Caller;
use filegate_domain::upload::UploadPolicy;
use filegate_store::clients::AwsClients;
use filegate_store::config::Config;
use filegate_store::{MetadataStore, ObjectStore};

#[derive(Debug, Clone)]
pub struct FileService {
    store: MetadataStore,
    objects: ObjectStore,
    policy: UploadPolicy,
    public_base_url: Option<String>,
    proxy_max_bytes: u64,
}

impl FileService {
    /// The table, bucket and policies `config` names, through `clients`.
    pub fn from_config(config: &Config, clients: &AwsClients) -> Self {
        Self {
            store: MetadataStore::new(clients.dynamodb.clone(), config.table.clone()),
            objects: ObjectStore::new(
                clients.s3.clone(),
                config.bucket.clone(),
                config.encryption.clone(),
            ),
            policy: config.uploads.clone(),
            public_base_url: config.public_base_url.clone(),
            proxy_max_bytes: config.proxy_max_bytes,
        }
    }

    /// What uploads this deployment accepts (the edge checks declarations against it).
    pub fn policy(&self) -> &UploadPolicy {
        &self.policy
    }

    pub fn store(&self) -> &MetadataStore {
        &self.store
    }

    pub fn objects(&self) -> &ObjectStore {
        &self.objects
    }

    pub(crate) fn public_base_url(&self) -> Option<&str> {
        self.public_base_url.as_deref()
    }

    pub(crate) fn proxy_max_bytes(&self) -> u64 {
        self.proxy_max_bytes
    }

    /// The file as stored in the caller's org, or 404: another organisation's file is not
    /// found either, and neither is one whose delete has started.
    pub async fn get(&self, caller: &Caller, id: &FileId) -> Result<FileRecord, DomainError> {
        self.store
            .get_file(&caller.org, id)
            .await?
            .filter(|file| file.deleting_at.is_none())
            .ok_or_else(|| file_not_found(id))
    }
}

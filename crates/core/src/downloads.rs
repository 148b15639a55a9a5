//! Download URLs: short-lived presigned GETs with the file's own type and disposition, or
//! the public URL of a public file that may be shown inline.

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::download::{
    Disposition, DownloadLink, DownloadRequest, content_disposition, ensure_downloadable,
    public_url,
};
use filegate_domain::ids::FileId;
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;

use crate::file_service::FileService;

impl FileService {
    /// A fresh URL for a downloadable file, and a `file.download_url_issued` audit row.
    pub async fn download_url(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: DownloadRequest,
    ) -> Result<DownloadLink, DomainError> {
        let file = self.get(caller, id).await?;
        ensure_downloadable(&file)?;
        let now = Timestamp::now();
        let disposition = Disposition::for_file(request.attachment, &file.content_type);
        // The public URL serves whatever headers the CDN gives: only for files that may be
        // shown inline anyway; an attachment or an active type gets a presigned GET.
        let public_base = self
            .public_base_url()
            .filter(|_| file.public && disposition == Disposition::Inline);
        let download = match public_base {
            Some(base) => DownloadLink {
                file: file.id,
                url: public_url(base, &file),
                expires: None,
            },
            None => {
                let url = self
                    .objects()
                    .presign_download(
                        &file.object_key(),
                        &file.content_type,
                        &content_disposition(disposition, &file.name),
                        request.expires_in,
                        now,
                    )
                    .await?;
                DownloadLink {
                    file: file.id,
                    url,
                    expires: Some((request.expires_in, now.plus_seconds(request.expires_in))),
                }
            }
        };
        let event = AuditEvent::new(
            &caller.org,
            file.id,
            AuditAction::FileDownloadUrlIssued,
            &caller.actor,
            origin,
            now,
        )
        .with_detail("disposition", disposition.as_str())
        .with_detail("expires_in", download.expires.map(|(seconds, _)| seconds))
        .with_detail("public", download.expires.is_none());
        self.store().record_event(&event).await?;
        Ok(download)
    }
}

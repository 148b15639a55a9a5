//! The parts of a multipart upload: signing their URLs, any number of times while the file
//! is pending, and what S3 already holds (in [`crate::lists`]). The upload id stays here: the
//! client names parts only by number.

use filegate_domain::DomainError;
use filegate_domain::file::MultipartUpload;
use filegate_domain::file::{FileRecord, FileStatus};
use filegate_domain::ids::FileId;
use filegate_domain::multipart::{PartPlan, PartRequest, PartTicket};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;

use crate::file_service::FileService;

impl FileService {
    /// Presigned `UploadPart` URLs for the requested parts, each bound to the part's exact
    /// length and, when given, its SHA-256. Asking again for a part gives a fresh URL; the
    /// parts already in S3 stay.
    pub async fn sign_parts(
        &self,
        caller: &Caller,
        id: &FileId,
        requests: &[PartRequest],
    ) -> Result<Vec<PartTicket>, DomainError> {
        let file = self.get(caller, id).await?;
        let now = Timestamp::now();
        let upload = open_upload(&file, now)?;
        let plan = PartPlan::of(file.size_bytes, upload);
        let numbers = requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.check_checksum(upload, &format!("parts[{i}].checksum_sha256"))?;
                plan.part_number(r.part_number, &format!("parts[{i}].part_number"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let expires_in = self.policy().url_expiry_secs;
        let key = file.object_key();
        let mut tickets = Vec::with_capacity(requests.len());
        for (number, request) in numbers.into_iter().zip(requests) {
            tickets.push(
                self.objects()
                    .presign_part(
                        &key,
                        &upload.upload_id,
                        number,
                        plan.length_of(number),
                        request.checksum.as_ref(),
                        expires_in,
                        now,
                    )
                    .await?,
            );
        }
        Ok(tickets)
    }
}

/// The multipart upload of a file that may still receive parts: declared multipart, still
/// `pending`, and not past its expiry.
pub(crate) fn open_upload(
    file: &FileRecord,
    now: Timestamp,
) -> Result<&MultipartUpload, DomainError> {
    let Some(upload) = &file.multipart else {
        return Err(DomainError::conflict(
            "not_multipart",
            "this file is uploaded with one PUT to the URL its declaration returned, not in parts",
        ));
    };
    if file.status != FileStatus::Pending {
        return Err(DomainError::conflict(
            "file_not_pending",
            format!(
                "the file is {}: its parts can no longer be uploaded or listed",
                file.status
            ),
        ));
    }
    if now >= upload.expires_at {
        return Err(DomainError::conflict(
            "upload_expired",
            format!(
                "the multipart upload expired at {}; declare the file again",
                upload.expires_at
            ),
        ));
    }
    Ok(upload)
}

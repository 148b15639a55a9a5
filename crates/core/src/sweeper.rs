//! The sweeper: repairs what crashes and abandoned clients leave (API.md "Sweeper"). It walks
//! the store's work list (rows due for a look: pending files whose upload URL has expired,
//! deletes in progress) and, for each row read again as it is now:
//!
//! - a delete (or expiry) stuck between its steps is finished;
//! - a pending file whose bytes are in S3 is finalized, as its S3 event must have been lost;
//! - a pending file past its expiry (`FILEGATE_PENDING_EXPIRY_SECS`, or its multipart
//!   upload's `FILEGATE_MULTIPART_EXPIRY_SECS`) is removed, bytes, parts and row, with a
//!   `file.expired` audit row, except a multipart file whose upload was completed, which is
//!   finalized however late;
//! - a pending file with no bytes yet is looked at again at its expiry.
//!
//! Every change is conditional on the row being as read, so two sweeps at once, or a sweep
//! racing a client, make each change once; a row that changed is left to its new owner.

use std::fmt;

use filegate_domain::audit::RequestOrigin;
use filegate_domain::error::ErrorChain;
use filegate_domain::file::{FileRecord, FileStatus};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_domain::upload::SWEEPER;
use filegate_domain::{DomainError, ErrorKind};
use filegate_store::metadata::{ChangeStatusError, SWEEP_SHARDS};

use crate::file_service::FileService;
use crate::finalize::{Finalized, HashBudget};

/// Rows read per Query of the work list.
const PAGE: i32 = 100;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Deletes (and expiries) finished after their first step.
    pub removals_finished: usize,
    /// Pending files whose bytes were there: finalized (`uploaded`, or `failed` on a mismatch).
    pub finalized: usize,
    /// Abandoned pending files removed (`file.expired`).
    pub expired: usize,
    /// Pending files without bytes, to be looked at again at their expiry.
    pub rescheduled: usize,
    /// Rows that had changed since the work list said so: left alone.
    pub left_alone: usize,
    /// Rows whose repair failed (storage busy or down); they stay on the list for next time.
    pub errors: usize,
    /// `true` when the sweep stopped at its budget with work left.
    pub more: bool,
}

impl fmt::Display for SweepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} removals finished, {} finalized, {} expired, {} rescheduled, {} left alone, {} errors{}",
            self.removals_finished,
            self.finalized,
            self.expired,
            self.rescheduled,
            self.left_alone,
            self.errors,
            if self.more { ", more to do" } else { "" }
        )
    }
}

enum Outcome {
    RemovalFinished,
    Finalized,
    Expired,
    Rescheduled,
    LeftAlone,
}

impl FileService {
    /// One sweep as of `now`, over at most `budget` rows (the next sweep goes on).
    pub async fn sweep(
        &self,
        origin: &RequestOrigin,
        now: Timestamp,
        budget: usize,
    ) -> SweepReport {
        let mut report = SweepReport::default();
        let mut seen = 0;
        for shard in 0..SWEEP_SHARDS {
            let mut cursor = None;
            loop {
                if seen >= budget {
                    report.more = true;
                    return report;
                }
                let page = match self.store().due_for_sweep(shard, now, cursor, PAGE).await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::warn!(error = %ErrorChain(&e), shard, "could not read the sweep's work list");
                        report.errors += 1;
                        break;
                    }
                };
                for due in page.files {
                    seen += 1;
                    match self.sweep_one(origin, &due, now).await {
                        Ok(Outcome::RemovalFinished) => report.removals_finished += 1,
                        Ok(Outcome::Finalized) => report.finalized += 1,
                        Ok(Outcome::Expired) => report.expired += 1,
                        Ok(Outcome::Rescheduled) => report.rescheduled += 1,
                        Ok(Outcome::LeftAlone) => report.left_alone += 1,
                        Err(e) => {
                            tracing::warn!(error = %ErrorChain(&e), file = %due.id, "could not sweep a file");
                            report.errors += 1;
                        }
                    }
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        report
    }

    async fn sweep_one(
        &self,
        origin: &RequestOrigin,
        due: &FileRecord,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let caller = Caller::system(due.org.clone(), SWEEPER);
        // The index lags the table: act on the row as it is now.
        let Some(file) = self.store().get_file(&due.org, &due.id).await? else {
            return Ok(Outcome::LeftAlone);
        };
        if file.deleting_at.is_some() {
            self.finish_removal(&caller, origin, &file).await?;
            return Ok(Outcome::RemovalFinished);
        }
        if file.status != FileStatus::Pending {
            return Ok(Outcome::LeftAlone);
        }
        let expires = file.abandoned_at(self.policy().pending_expiry_secs);
        // The object of a multipart file exists only once a finalize completed its upload:
        // its client finished in time, and the bytes are checked, never expired.
        let bytes_there = if now < expires || file.multipart.is_some() {
            self.objects().head(&file.object_key()).await?.is_some()
        } else {
            false
        };
        if now >= expires && !bytes_there {
            let marked = match self.store().mark_expiring(&file, now).await {
                Ok(marked) => marked,
                Err(ChangeStatusError::Conflict) => return Ok(Outcome::LeftAlone),
                Err(ChangeStatusError::Storage(e)) => return Err(e.into()),
            };
            self.finish_removal(&caller, origin, &marked).await?;
            return Ok(Outcome::Expired);
        }
        if bytes_there {
            return match self
                .finalize(&caller, origin, &file.id, HashBudget::Request)
                .await
            {
                Ok(Finalized::Done(_)) => Ok(Outcome::Finalized),
                // Left to the S3 event's finalizer, which may read the whole object.
                Ok(Finalized::Verifying(_)) => Ok(Outcome::LeftAlone),
                // A mismatch is settled (the file failed): finalized all the same.
                Err(e) if e.code() == "upload_mismatch" => Ok(Outcome::Finalized),
                Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::Conflict => {
                    Ok(Outcome::LeftAlone)
                }
                Err(e) => Err(e),
            };
        }
        match self.store().reschedule_sweep(&file, expires).await {
            Ok(()) => Ok(Outcome::Rescheduled),
            Err(ChangeStatusError::Conflict) => Ok(Outcome::LeftAlone),
            Err(ChangeStatusError::Storage(e)) => Err(e.into()),
        }
    }
}

//! The parts of a multipart upload on the wire: which parts to sign, the signed URLs, and the
//! parts S3 already holds.

use std::collections::BTreeSet;

use filegate_domain::DomainError;
use filegate_domain::file::{MultipartUpload, Sha256Checksum};
use filegate_domain::multipart::{HeldPart, MAX_PARTS_PER_REQUEST, PartRequest};
use filegate_domain::page::Listing;
use filegate_domain::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::json_shape::objects;

/// `POST /v1/files/{id}/parts`: 1–100 parts to sign.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignPartsRequest {
    #[serde(deserialize_with = "objects")]
    #[schema(min_items = 1, max_items = 100)]
    pub parts: Vec<PartEntry>,
}

/// One part to sign.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartEntry {
    /// 1 to the file's `part_count`.
    #[schema(minimum = 1, maximum = 10000, example = 1)]
    pub part_number: u64,
    /// SHA-256 of this part's bytes, base64 (or hex). When given, the URL binds it and S3
    /// refuses other bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
}

impl SignPartsRequest {
    /// Checks the request's shape; the part numbers are checked against the file's plan
    /// later. Errors name the entry (`parts[2].checksum_sha256`).
    pub fn requests(&self) -> Result<Vec<PartRequest>, DomainError> {
        if self.parts.is_empty() || self.parts.len() > MAX_PARTS_PER_REQUEST {
            return Err(DomainError::invalid(
                "invalid_parts_count",
                format!("parts must hold 1 to {MAX_PARTS_PER_REQUEST} entries"),
            )
            .with_param("parts"));
        }
        let mut seen = BTreeSet::new();
        self.parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                if !seen.insert(part.part_number) {
                    return Err(DomainError::invalid(
                        "duplicate_part_number",
                        format!("part {} is asked for twice", part.part_number),
                    )
                    .with_param(format!("parts[{i}].part_number")));
                }
                Ok(PartRequest {
                    part_number: part.part_number,
                    checksum: part
                        .checksum_sha256
                        .as_deref()
                        .map(Sha256Checksum::parse)
                        .transpose()
                        .map_err(|e| e.within(&format!("parts[{i}]")))?,
                })
            })
            .collect()
    }
}

/// A part S3 holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartObject {
    /// Always `part`.
    #[schema(example = "part")]
    pub object: String,
    pub part_number: u32,
    /// The part's length (a decimal string).
    #[schema(example = "16777216")]
    pub size_bytes: String,
    pub etag: String,
    /// Base64 SHA-256 of the part, when S3 has it.
    pub checksum_sha256: Option<String>,
}

impl From<&HeldPart> for PartObject {
    fn from(part: &HeldPart) -> Self {
        Self {
            object: "part".to_owned(),
            part_number: part.number,
            size_bytes: part.size.to_string(),
            etag: part.etag.clone(),
            checksum_sha256: part.checksum_sha256.clone(),
        }
    }
}

/// A page of the parts S3 holds, by part number, with the upload's plan: everything a client
/// needs to resume (send the parts that are not here, then finalize).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartList {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: String,
    pub data: Vec<PartObject>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    /// Bytes in every part but the last (a decimal string).
    #[schema(example = "16777216")]
    pub part_size: String,
    pub part_count: u32,
    /// Finalize before this.
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
}

impl PartList {
    pub fn new(upload: &MultipartUpload, listing: Listing<HeldPart>) -> Self {
        Self {
            object: "list".to_owned(),
            data: listing.items.iter().map(PartObject::from).collect(),
            has_more: listing.next_cursor.is_some(),
            next_cursor: listing.next_cursor,
            part_size: upload.part_size.to_string(),
            part_count: upload.part_count,
            expires_at: upload.expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(v: serde_json::Value) -> SignPartsRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn one_to_a_hundred_distinct_parts() {
        let e = request(serde_json::json!({"parts": []}))
            .requests()
            .unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("invalid_parts_count", Some("parts"))
        );
        let many: Vec<_> = (1..=101)
            .map(|n| serde_json::json!({ "part_number": n }))
            .collect();
        let e = request(serde_json::json!({ "parts": many }))
            .requests()
            .unwrap_err();
        assert_eq!(e.code(), "invalid_parts_count");
        let e = request(serde_json::json!({"parts": [{"part_number": 2}, {"part_number": 2}]}))
            .requests()
            .unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("duplicate_part_number", Some("parts[1].part_number"))
        );
        let ok = request(serde_json::json!({"parts": [{"part_number": 1}, {"part_number": 3}]}))
            .requests()
            .unwrap();
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn a_bad_checksum_names_its_entry() {
        let e = request(serde_json::json!({"parts": [
            {"part_number": 1, "checksum_sha256": "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
            {"part_number": 2, "checksum_sha256": "nope"}
        ]}))
        .requests()
        .unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("invalid_checksum", Some("parts[1].checksum_sha256"))
        );
    }
}

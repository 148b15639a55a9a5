//! Multipart uploads: how a large file is cut into parts, what the server keeps about its
//! upload, and which parts S3 still lacks before the upload can be completed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;
use crate::file::{FileSize, MultipartUpload};
use crate::timestamp::Timestamp;

const MIB: u64 = 1024 * 1024;

/// Every part but the last is at least this big. S3 allows 5 MiB; R2 and other S3-compatible
/// stores ask for more, and 8 MiB parts keep a 1 GiB file at 128 requests.
pub const MIN_PART_SIZE: u64 = 8 * MIB;
/// S3's largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// S3's most parts in one upload.
pub const MAX_PARTS: u32 = 10_000;
/// Most parts one `POST /v1/files/{id}/parts` signs.
pub const MAX_PARTS_PER_REQUEST: usize = 100;
/// How many parts `details.missing_parts` names at most (the count is always given).
pub const MISSING_PARTS_SHOWN: usize = 1000;

/// How a file of a given size is cut: every part but the last has exactly `part_size` bytes,
/// the last holds the rest (1 to `part_size` bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub size: u64,
    pub part_size: u64,
    pub part_count: u32,
}

impl PartPlan {
    /// The smallest whole number of MiB, at least [`MIN_PART_SIZE`], that needs at most
    /// [`MAX_PARTS`] parts: small parts resume cheaply after a dropped connection, and whole
    /// MiB keep the numbers readable. For every size up to [`FileSize::MAX_OBJECT`] the part is
    /// at most 525 MiB, far below [`MAX_PART_SIZE`].
    pub fn for_size(size: FileSize) -> Self {
        let size = size.bytes();
        let needed = size.div_ceil(u64::from(MAX_PARTS));
        let part_size = needed
            .div_ceil(MIB)
            .saturating_mul(MIB)
            .clamp(MIN_PART_SIZE, MAX_PART_SIZE);
        let part_count = u32::try_from(size.div_ceil(part_size)).unwrap_or(u32::MAX);
        Self {
            size,
            part_size,
            part_count,
        }
    }

    /// The plan of an upload already under way.
    pub fn of(size: FileSize, upload: &MultipartUpload) -> Self {
        Self {
            size: size.bytes(),
            part_size: upload.part_size,
            part_count: upload.part_count,
        }
    }

    /// The exact length of part `number` (1-based, within the plan).
    pub fn length_of(&self, number: PartNumber) -> u64 {
        let before = u64::from(number.0 - 1) * self.part_size;
        (self.size - before).min(self.part_size)
    }

    /// Checks a part number the client sent; `param` names where it was.
    pub fn part_number(&self, raw: u64, param: &str) -> Result<PartNumber, DomainError> {
        match u32::try_from(raw) {
            Ok(n) if (1..=self.part_count).contains(&n) => Ok(PartNumber(n)),
            _ => Err(DomainError::invalid(
                "invalid_part_number",
                format!(
                    "part_number must be between 1 and {} for this file",
                    self.part_count
                ),
            )
            .with_param(param)),
        }
    }

    /// The parts 1…`part_count` that S3 does not hold with their exact length, in order:
    /// a part of another length (possible only where the store does not check signatures) must
    /// be uploaded again as well.
    pub fn missing(&self, held: &[HeldPart]) -> Vec<u32> {
        let mut ok = vec![false; self.part_count as usize];
        for part in held {
            if (1..=self.part_count).contains(&part.number)
                && part.size == self.length_of(PartNumber(part.number))
            {
                ok[part.number as usize - 1] = true;
            }
        }
        (1..=self.part_count)
            .filter(|n| !ok[*n as usize - 1])
            .collect()
    }
}

/// A part number within a file's plan: 1…`part_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartNumber(u32);

impl PartNumber {
    pub fn get(self) -> u32 {
        self.0
    }
}

/// One part a client asks to sign: the number as sent (checked against the file's plan), and
/// the part's SHA-256 when the client has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRequest {
    pub part_number: u64,
    pub checksum: Option<crate::file::Sha256Checksum>,
}

impl PartRequest {
    /// Whether this part's checksum fits its upload (`param` names the entry): required when
    /// the upload was created with SHA-256 checksums, refused when it was not, as S3 answers
    /// either mismatch with an error only once the bytes have been sent.
    pub fn check_checksum(&self, upload: &MultipartUpload, param: &str) -> Result<(), DomainError> {
        match (upload.part_checksums, &self.checksum) {
            (true, None) => Err(DomainError::invalid(
                "part_checksum_required",
                "this file was declared with its checksum_sha256, so every part needs its own checksum_sha256",
            )
            .with_param(param)),
            (false, Some(_)) => Err(DomainError::invalid(
                "part_checksum_not_declared",
                "this file was declared without checksum_sha256, so its parts cannot carry one; leave it out, or declare the file with its checksum_sha256",
            )
            .with_param(param)),
            _ => Ok(()),
        }
    }
}

/// A part S3 holds, as ListParts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    /// Present when the part was sent with its SHA-256 (or S3 computed it).
    pub checksum_sha256: Option<String>,
}

/// The `409 upload_incomplete` of a finalize that came too early: which parts to send.
pub fn upload_incomplete(missing: &[u32]) -> DomainError {
    let shown: Vec<u32> = missing.iter().copied().take(MISSING_PARTS_SHOWN).collect();
    DomainError::conflict(
        "upload_incomplete",
        format!(
            "{} part(s) are missing or have the wrong size; upload them (see details.missing_parts), then finalize again",
            missing.len()
        ),
    )
    .with_detail("missing_parts", shown)
    .with_detail("missing_count", missing.len())
}

/// How to send a multipart file: ask `POST /v1/files/{id}/parts` for the parts' URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MultipartTicket {
    /// Always `multipart`.
    #[cfg_attr(feature = "openapi", schema(schema_with = multipart_method))]
    pub method: String,
    /// Bytes in every part but the last (a decimal string).
    #[serde(serialize_with = "decimal", deserialize_with = "from_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "16777216"))]
    pub part_size: u64,
    #[cfg_attr(feature = "openapi", schema(example = 64))]
    pub part_count: u32,
    /// Finalize before this, or the sweeper aborts the upload and removes the file.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub expires_at: Timestamp,
}

impl MultipartTicket {
    pub fn new(upload: &MultipartUpload) -> Self {
        Self {
            method: "multipart".to_owned(),
            part_size: upload.part_size,
            part_count: upload.part_count,
            expires_at: upload.expires_at,
        }
    }
}

/// A presigned `UploadPart` URL for one part, and the exact headers it was signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartTicket {
    /// Always `upload_part`.
    #[cfg_attr(feature = "openapi", schema(example = "upload_part"))]
    pub object: String,
    pub part_number: u32,
    /// Always `PUT`.
    #[cfg_attr(feature = "openapi", schema(example = "PUT"))]
    pub method: String,
    pub url: String,
    /// Send exactly these headers; each is part of the signature (`content-length` is the
    /// part's exact length).
    #[cfg_attr(feature = "openapi", schema(example = json!({"content-length": "16777216", "x-amz-checksum-sha256": "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="})))]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Seconds the URL stays valid; ask again for a fresh one at any time.
    pub expires_in: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub expires_at: Timestamp,
}

#[cfg(feature = "openapi")]
fn multipart_method() -> utoipa::openapi::Object {
    method_schema("multipart")
}

/// `method` as the one value it takes, so that generated clients can tell the tickets apart.
#[cfg(feature = "openapi")]
pub(crate) fn method_schema(value: &str) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([value]))
        .description(Some(format!("Always `{value}`.")))
        .build()
}

/// Sizes go out as decimal strings, as everywhere in the API.
fn decimal<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// A size as the API writes it (a decimal string), read back by a client.
fn from_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    String::deserialize(d)?
        .parse()
        .map_err(|_| serde::de::Error::custom("expected a decimal string"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plan(size: u64) -> PartPlan {
        PartPlan::for_size(FileSize::parse(&size.to_string(), u64::MAX).unwrap())
    }

    fn held(number: u32, size: u64) -> HeldPart {
        HeldPart {
            number,
            size,
            etag: format!("\"{number}\""),
            checksum_sha256: None,
        }
    }

    #[test]
    fn known_sizes() {
        let cases = [
            (1, MIN_PART_SIZE, 1),
            (MIN_PART_SIZE, MIN_PART_SIZE, 1),
            (MIN_PART_SIZE + 1, MIN_PART_SIZE, 2),
            (1024 * MIB, MIN_PART_SIZE, 128),
            // 1 TiB: 105 MiB parts.
            (1024 * 1024 * MIB, 105 * MIB, 9987),
            // 5 TiB: 525 MiB parts.
            (FileSize::MAX_OBJECT, 525 * MIB, 9987),
        ];
        for (size, part_size, count) in cases {
            let p = plan(size);
            assert_eq!((p.part_size, p.part_count), (part_size, count), "{size}");
        }
    }

    #[test]
    fn the_last_part_holds_the_rest() {
        let p = plan(2 * MIN_PART_SIZE + 10);
        assert_eq!(p.part_count, 3);
        let lengths: Vec<u64> = (1..=3).map(|n| p.length_of(PartNumber(n))).collect();
        assert_eq!(lengths, [MIN_PART_SIZE, MIN_PART_SIZE, 10]);
    }

    #[test]
    fn part_numbers_outside_the_plan_are_refused() {
        let p = plan(3 * MIN_PART_SIZE);
        for raw in [0, 4, u64::from(u32::MAX) + 1] {
            let e = p.part_number(raw, "parts[0].part_number").unwrap_err();
            assert_eq!(
                (e.code(), e.param()),
                ("invalid_part_number", Some("parts[0].part_number")),
                "{raw}"
            );
        }
        assert_eq!(p.part_number(3, "p").unwrap().get(), 3);
    }

    #[test]
    fn missing_parts_are_absent_or_of_the_wrong_length() {
        let p = plan(2 * MIN_PART_SIZE + 10);
        assert_eq!(p.missing(&[]), [1, 2, 3]);
        assert_eq!(
            p.missing(&[held(1, MIN_PART_SIZE), held(3, 10)]),
            [2],
            "absent"
        );
        assert_eq!(
            p.missing(&[held(1, MIN_PART_SIZE), held(2, 10), held(3, 10)]),
            [2],
            "a short part counts as missing"
        );
        assert!(
            p.missing(&[
                held(1, MIN_PART_SIZE),
                held(2, MIN_PART_SIZE),
                held(3, 10),
                held(4, 5)
            ])
            .is_empty(),
            "a part beyond the plan is ignored"
        );
    }

    #[test]
    fn incomplete_names_the_parts_and_their_count() {
        let missing: Vec<u32> = (1..=MAX_PARTS).collect();
        let e = upload_incomplete(&missing);
        let details = e.details().unwrap();
        assert_eq!(
            details["missing_parts"].as_array().unwrap().len(),
            MISSING_PARTS_SHOWN
        );
        assert_eq!(details["missing_count"], 10_000);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// For every size from 1 byte to the largest object: parts within S3's bounds, at
        /// most 10,000 of them, all but the last equal, and the lengths add up to the size.
        #[test]
        fn every_size_gets_a_valid_plan(size in prop_oneof![
            1..=4 * MIN_PART_SIZE,
            1..=FileSize::MAX_OBJECT,
            (FileSize::MAX_OBJECT - 4 * MAX_PART_SIZE)..=FileSize::MAX_OBJECT,
        ]) {
            let p = plan(size);
            prop_assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&p.part_size));
            prop_assert_eq!(p.part_size % MIB, 0);
            prop_assert!((1..=MAX_PARTS).contains(&p.part_count));
            let last = p.length_of(PartNumber(p.part_count));
            prop_assert!((1..=p.part_size).contains(&last));
            prop_assert_eq!(u64::from(p.part_count - 1) * p.part_size + last, size);
            if p.part_count > 1 {
                prop_assert_eq!(p.length_of(PartNumber(1)), p.part_size);
                prop_assert_eq!(p.length_of(PartNumber(p.part_count - 1)), p.part_size);
            }
            // The smallest such part: one MiB less would need more than 10,000 parts.
            if p.part_size > MIN_PART_SIZE {
                prop_assert!(size.div_ceil(p.part_size - MIB) > u64::from(MAX_PARTS));
            }
        }
    }
}

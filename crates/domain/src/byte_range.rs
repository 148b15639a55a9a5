//! Byte ranges and the size limit of bytes streamed through Lambda.

use crate::error::DomainError;

/// Lambda ends a streamed response at 200 MB (the first 6 MB go out uncapped, the rest at
/// about 2 MB/s), so the proxy refuses larger bodies before sending a byte rather than
/// cutting them off mid-way. Decimal megabytes: the conservative reading of the limit.
pub const LAMBDA_STREAM_LIMIT: u64 = 200_000_000;

/// How slowly a client may take a stream through the API. The streaming routes hold a
/// function instance (a unit of the account's concurrency) for as long as a client reads,
/// and the presigned-URL proxy needs no credentials: a few hundred slow readers of one valid
/// URL must not take the account's concurrency from every function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPace {
    /// Once `grace` has passed, a stream delivering less than this on average ends.
    pub min_bytes_per_sec: u64,
    pub grace: std::time::Duration,
    /// No stream lasts longer than this.
    pub max_duration: std::time::Duration,
    /// How long the source (S3) may send nothing while the stream waits for it: the SDK and
    /// hyper time out connects and headers, never a body (aws-sdk-rust#1176), so without
    /// this a stalled S3 connection would hold the function until Lambda's own timeout.
    pub upstream_stall: std::time::Duration,
}

impl Default for StreamPace {
    /// 64 KiB/s after 30 s (a 200 MB body at that rate takes under an hour, at Lambda's
    /// 2 MB/s under two minutes), 10 minutes in all, and S3 silent for 30 s at most.
    fn default() -> Self {
        Self {
            min_bytes_per_sec: 64 * 1024,
            grace: std::time::Duration::from_secs(30),
            max_duration: std::time::Duration::from_secs(600),
            upstream_stall: std::time::Duration::from_secs(30),
        }
    }
}

impl StreamPace {
    /// Why a stream that has delivered `delivered` bytes in `elapsed` must end, if it must.
    pub fn verdict(&self, delivered: u64, elapsed: std::time::Duration) -> Option<&'static str> {
        if elapsed > self.max_duration {
            return Some("the stream took longer than its time limit");
        }
        let floor = u128::from(self.min_bytes_per_sec) * elapsed.as_millis() / 1000;
        (elapsed > self.grace && u128::from(delivered) < floor)
            .then_some("the client read the stream slower than the minimum rate")
    }
}

/// One byte range (RFC 9110 §14.1.2). S3 serves one range per GET, so that is all we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-` or `bytes=first-last` (both inclusive).
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// A `Range` header's value, if it is one we serve. As RFC 9110 §14.2 has it, a unit
    /// other than `bytes` is ignored (the whole object is sent), and so is a set of several
    /// ranges (as S3 does); a malformed byte range is refused.
    ///
    /// `bytes=0-99`, `bytes=100-`, `bytes=-100`; `None` for what is ignored.
    pub fn parse(value: &str) -> Result<Option<Self>, DomainError> {
        let (unit, set) = value
            .trim()
            .split_once('=')
            .ok_or_else(|| invalid_range("Range must look like bytes=0-99"))?;
        if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
            return Ok(None);
        }
        Self::parse_one(set).map(Some)
    }

    fn parse_one(set: &str) -> Result<Self, DomainError> {
        let (first, last) = set
            .trim()
            .split_once('-')
            .ok_or_else(|| invalid_range("Range must look like bytes=0-99"))?;
        match (first.trim(), last.trim()) {
            ("", "") => Err(invalid_range("Range must look like bytes=0-99")),
            ("", suffix) => match position(suffix)? {
                0 => Err(DomainError::range_not_satisfiable(
                    "range_not_satisfiable",
                    "bytes=-0 selects no bytes",
                )),
                n => Ok(Self::Suffix(n)),
            },
            (first, "") => Ok(Self::From {
                first: position(first)?,
                last: None,
            }),
            (first, last) => {
                let (first, last) = (position(first)?, position(last)?);
                if last < first {
                    return Err(invalid_range("a range's last byte comes before its first"));
                }
                Ok(Self::From {
                    first,
                    last: Some(last),
                })
            }
        }
    }

    /// The header value to send on.
    pub fn header_value(&self) -> String {
        match self {
            Self::From { first, last: None } => format!("bytes={first}-"),
            Self::From {
                first,
                last: Some(last),
            } => format!("bytes={first}-{last}"),
            Self::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

fn position(digits: &str) -> Result<u64, DomainError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_range("range positions are whole numbers of bytes"));
    }
    digits
        .parse()
        .map_err(|_| invalid_range("range position out of bounds"))
}

/// `400 invalid_range` on `Range`.
pub fn invalid_range(message: &'static str) -> DomainError {
    DomainError::invalid("invalid_range", message).with_param("Range")
}

/// 413 before the first byte, for bodies Lambda would cut off.
pub fn ensure_streamable(content_length: u64, max_bytes: u64) -> Result<(), DomainError> {
    if content_length <= max_bytes {
        return Ok(());
    }
    Err(DomainError::too_large(
        "too_large_for_proxy",
        format!(
            "the object is {content_length} bytes and the proxy streams at most {max_bytes} \
             (Lambda's limit for streamed responses): get a presigned URL from \
             POST /v1/files/{{id}}/download_url, or fetch it in Range requests of at most \
             {max_bytes} bytes"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_below_the_floor_after_the_grace_or_past_the_cap_ends() {
        use std::time::Duration;
        let pace = StreamPace {
            min_bytes_per_sec: 1000,
            grace: Duration::from_secs(10),
            max_duration: Duration::from_secs(60),
            ..StreamPace::default()
        };
        let secs = Duration::from_secs;
        assert_eq!(pace.verdict(0, secs(10)), None, "within the grace");
        assert_eq!(pace.verdict(11_000, secs(11)), None, "at the floor");
        assert!(pace.verdict(10_999, secs(11)).is_some(), "below it");
        assert!(pace.verdict(u64::MAX, secs(61)).is_some(), "past the cap");
    }
    use crate::error::ErrorKind;

    fn parse(value: &str) -> Result<Option<ByteRange>, (ErrorKind, &'static str)> {
        ByteRange::parse(value).map_err(|e| (e.kind(), e.code()))
    }

    #[test]
    fn single_byte_ranges_parse_and_print_back() {
        for (input, range, printed) in [
            (
                "bytes=0-99",
                ByteRange::From {
                    first: 0,
                    last: Some(99),
                },
                "bytes=0-99",
            ),
            (
                "bytes=100-",
                ByteRange::From {
                    first: 100,
                    last: None,
                },
                "bytes=100-",
            ),
            ("bytes=-100", ByteRange::Suffix(100), "bytes=-100"),
            (
                " Bytes = 5 - 5 ",
                ByteRange::From {
                    first: 5,
                    last: Some(5),
                },
                "bytes=5-5",
            ),
        ] {
            assert_eq!(parse(input), Ok(Some(range)), "{input}");
            assert_eq!(range.header_value(), printed);
        }
    }

    #[test]
    fn other_units_and_several_ranges_are_ignored() {
        for input in ["items=0-1", "lines=1-2", "bytes=0-1,5-6", "bytes=0-1, -5"] {
            assert_eq!(parse(input), Ok(None), "{input}");
        }
    }

    #[test]
    fn malformed_byte_ranges_are_400() {
        for input in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=0x10-",
            "bytes=10-5",
            "bytes=99999999999999999999999-",
            "bytes=1-2-3",
        ] {
            assert_eq!(
                parse(input),
                Err((ErrorKind::Invalid, "invalid_range")),
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_empty_suffix_is_unsatisfiable() {
        assert_eq!(
            parse("bytes=-0"),
            Err((ErrorKind::RangeNotSatisfiable, "range_not_satisfiable"))
        );
    }

    #[test]
    fn bodies_over_the_limit_are_413_and_at_the_limit_pass() {
        assert!(ensure_streamable(LAMBDA_STREAM_LIMIT, LAMBDA_STREAM_LIMIT).is_ok());
        let err = ensure_streamable(LAMBDA_STREAM_LIMIT + 1, LAMBDA_STREAM_LIMIT).unwrap_err();
        assert_eq!(
            (err.kind(), err.code()),
            (ErrorKind::TooLarge, "too_large_for_proxy")
        );
        assert!(err.message().contains("download_url"), "{}", err.message());
    }
}

//! RFC 3339 UTC timestamps with milliseconds, the one time format of the API and the table.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A point in time, printed as `2026-11-23T12:00:00.000Z`. The fixed width makes the string
/// sort like the time, which the table relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        // Truncate to what we print, so a value survives a round trip unchanged.
        let millis = t.millisecond();
        Self(
            t.replace_millisecond(millis)
                .expect("millisecond is in range"),
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        time::PrimitiveDateTime::parse(s, FORMAT)
            .ok()
            .map(|t| Self(t.assume_utc()))
    }

    pub fn plus_seconds(self, seconds: u64) -> Self {
        Self(self.0 + Duration::seconds(seconds.min(i64::MAX as u64) as i64))
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl From<Timestamp> for std::time::SystemTime {
    fn from(t: Timestamp) -> Self {
        t.0.into()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("invalid timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_utc_with_milliseconds_and_round_trips() {
        let t = Timestamp::parse("2026-11-23T12:00:00.123Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-23T12:00:00.123Z");
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(&now.to_string()), Some(now));
        assert_eq!(now.to_string().len(), 24);
    }

    #[test]
    fn adds_seconds() {
        let t = Timestamp::parse("2026-11-23T12:00:00.000Z").unwrap();
        assert_eq!(t.plus_seconds(300).to_string(), "2026-11-23T12:05:00.000Z");
    }
}

//! Pages of lists: `limit` and `cursor` as asked for, and what a page holds.

use crate::error::DomainError;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// A page as asked for: how many items, after which cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// `limit` (1–100, default 20) and `cursor` (empty is none) as the query gave them.
    pub fn from_parts(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, DomainError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    DomainError::invalid(
                        "invalid_limit",
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                    .with_param("limit")
                })?,
        };
        Ok(Self {
            limit,
            cursor: cursor.filter(|c| !c.is_empty()).map(str::to_owned),
        })
    }
}

/// One page as read from storage, and where the next one starts (an item id), if anywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// One page of a list as the client gets it: the items, and the sealed cursor of the next
/// page, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_one_to_a_hundred_defaulting_to_twenty() {
        let parse = |l: Option<&str>| PageRequest::from_parts(l, None);
        assert_eq!(parse(None).unwrap().limit, 20);
        assert_eq!(parse(Some("1")).unwrap().limit, 1);
        assert_eq!(parse(Some("100")).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "", "1.5"] {
            let e = parse(Some(bad)).unwrap_err();
            assert_eq!(
                (e.code(), e.param()),
                ("invalid_limit", Some("limit")),
                "{bad}"
            );
        }
    }
}

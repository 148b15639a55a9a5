//! The list envelope of API.md and the query parameters every list takes.

use filegate_domain::DomainError;
use filegate_domain::page::{Listing, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `{"object":"list","data":[…],"has_more":…,"next_cursor":…}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct List<T> {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: String,
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// A list that holds everything asked for: no next page.
    pub fn complete(data: Vec<T>) -> Self {
        Self {
            object: "list".to_owned(),
            data,
            has_more: false,
            next_cursor: None,
        }
    }

    /// The wire form of a page of records, each turned into its API object.
    pub fn of<R>(listing: Listing<R>) -> Self
    where
        T: for<'a> From<&'a R>,
    {
        Self {
            object: "list".to_owned(),
            data: listing.items.iter().map(T::from).collect(),
            has_more: listing.next_cursor.is_some(),
            next_cursor: listing.next_cursor,
        }
    }
}

/// `limit` and `cursor`, the query parameters of every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<PageRequest, DomainError> {
        PageRequest::from_parts(self.limit.as_deref(), self.cursor.as_deref())
    }
}

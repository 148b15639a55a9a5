//! The one optimistic-retry loop: read, decide, write only if nothing changed since the read;
//! when something did, read and decide again.

use std::future::Future;

use filegate_domain::DomainError;

/// Rounds before giving up; three cover any real interleaving of racing requests.
const ROUNDS: usize = 3;

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    Done(T),
    /// The write's condition failed: what it was decided on changed meanwhile.
    Changed,
}

/// Runs `attempt` until it is done, at most [`ROUNDS`] times; then `409 concurrent_update`
/// with `gave_up` as its message.
pub(crate) async fn retry_on_conflict<T, F, Fut>(
    gave_up: &'static str,
    mut attempt: F,
) -> Result<T, DomainError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, DomainError>>,
{
    for _ in 0..ROUNDS {
        if let Attempt::Done(value) = attempt().await? {
            return Ok(value);
        }
    }
    Err(DomainError::conflict("concurrent_update", gave_up))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gives_up_after_three_changed_rounds_and_stops_at_the_first_done() {
        let mut calls = 0;
        let result: Result<(), _> = retry_on_conflict("kept changing", || {
            calls += 1;
            async { Ok(Attempt::Changed) }
        })
        .await;
        let e = result.unwrap_err();
        assert_eq!(
            (e.code(), e.message(), calls),
            ("concurrent_update", "kept changing", 3)
        );

        let mut calls = 0;
        let result = retry_on_conflict("x", || {
            calls += 1;
            let n = calls;
            async move {
                Ok(if n == 2 {
                    Attempt::Done(n)
                } else {
                    Attempt::Changed
                })
            }
        })
        .await;
        assert_eq!((result.unwrap(), calls), (2, 2));
    }
}

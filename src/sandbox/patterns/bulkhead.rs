//! The bulkhead: at most N calls to an upstream at once, the next one refused at once rather
//! than queued, so a slow upstream holds N callers and not every worker.
//!
//! A counter rather than a semaphore: the limit changes at run time, and a lower limit must
//! apply to the next call while the calls already in flight finish.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Bulkhead {
    in_use: AtomicUsize,
    rejected: AtomicU64,
}

/// A place taken in the bulkhead, given back when dropped.
#[derive(Debug)]
pub struct Place<'a>(&'a AtomicUsize);

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Bulkhead {
    /// Takes a place if fewer than `limit` are taken; `None` (counted as a rejection) if not.
    /// Without a limit (the pattern off) the call is only counted in `in_use`.
    pub fn try_enter(&self, limit: Option<usize>) -> Option<Place<'_>> {
        let entered = self
            .in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_use| {
                limit
                    .is_none_or(|limit| in_use < limit)
                    .then_some(in_use + 1)
            });
        match entered {
            Ok(_) => Some(Place(&self.in_use)),
            Err(_) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Calls in flight now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }

    /// Calls refused since start.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_past_the_limit_is_refused_and_counted() {
        let bulkhead = Bulkhead::default();
        let first = bulkhead.try_enter(Some(2)).expect("first");
        let _second = bulkhead.try_enter(Some(2)).expect("second");
        assert!(bulkhead.try_enter(Some(2)).is_none());
        assert_eq!((bulkhead.in_use(), bulkhead.rejected()), (2, 1));
        drop(first);
        assert!(bulkhead.try_enter(Some(2)).is_some());
        assert_eq!(bulkhead.in_use(), 1, "the place dropped with its call");
    }

    #[test]
    fn a_lower_limit_applies_to_the_next_call_and_none_counts_only() {
        let bulkhead = Bulkhead::default();
        let places: Vec<_> = (0..5)
            .map(|_| bulkhead.try_enter(None).expect("no limit"))
            .collect();
        assert_eq!(bulkhead.in_use(), 5);
        assert!(bulkhead.try_enter(Some(3)).is_none());
        drop(places);
        assert_eq!(bulkhead.in_use(), 0);
        assert_eq!(bulkhead.rejected(), 1);
    }
}

//! Real leaked memory for the `memory_leak_mb` failure: anonymous mappings whose every page is
//! written, so the resident size grows like a true leak, and unmapped on reset, so it drops
//! again (heap allocations freed to malloc would not reliably leave the process).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::MmapMut;

const PAGE: usize = 4096;

/// What a leak request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakOutcome {
    Leaked,
    /// The cap was reached: nothing more is kept.
    CapReached,
}

pub struct LeakStore {
    chunks: Mutex<Vec<MmapMut>>,
    held: AtomicU64,
    cap: u64,
}

impl LeakStore {
    pub fn new(cap: u64) -> Self {
        LeakStore {
            chunks: Mutex::new(Vec::new()),
            held: AtomicU64::new(0),
            cap,
        }
    }

    /// Keeps `mib` more MiB of resident memory, unless that would pass the cap.
    pub fn leak(&self, mib: u64) -> std::io::Result<LeakOutcome> {
        let bytes = mib << 20;
        if bytes == 0 {
            return Ok(LeakOutcome::Leaked);
        }
        // Reserve first, so concurrent requests can't overshoot the cap together.
        let reserved = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held + bytes <= self.cap).then_some(held + bytes)
            });
        if reserved.is_err() {
            return Ok(LeakOutcome::CapReached);
        }
        let len = usize::try_from(bytes).unwrap_or(usize::MAX);
        let mut chunk = match MmapMut::map_anon(len) {
            Ok(chunk) => chunk,
            Err(err) => {
                self.held.fetch_sub(bytes, Ordering::AcqRel);
                return Err(err);
            }
        };
        // Touch every page so it becomes resident.
        for offset in (0..len).step_by(PAGE) {
            chunk[offset] = 0xA5;
        }
        self.lock().push(chunk);
        Ok(LeakOutcome::Leaked)
    }

    /// Unmaps everything leaked; returns the bytes freed.
    pub fn free_all(&self) -> u64 {
        let chunks = std::mem::take(&mut *self.lock());
        let freed: u64 = chunks.iter().map(|chunk| chunk.len() as u64).sum();
        drop(chunks);
        self.held.fetch_sub(freed, Ordering::AcqRel);
        freed
    }

    pub fn held_bytes(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    pub fn cap(&self) -> u64 {
        self.cap
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<MmapMut>> {
        // A panic while holding the lock can't leave the Vec inconsistent.
        self.chunks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_up_to_the_cap_and_frees_everything() {
        let store = LeakStore::new(3 << 20);
        assert_eq!(store.leak(1).expect("map"), LeakOutcome::Leaked);
        assert_eq!(store.leak(2).expect("map"), LeakOutcome::Leaked);
        assert_eq!(store.leak(1).expect("map"), LeakOutcome::CapReached);
        assert_eq!(store.held_bytes(), 3 << 20);
        assert_eq!(store.free_all(), 3 << 20);
        assert_eq!(store.held_bytes(), 0);
    }
}

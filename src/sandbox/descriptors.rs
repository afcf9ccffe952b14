//! File descriptors for the connection limit: every open connection costs one, so the limit
//! must fit under the process's `RLIMIT_NOFILE` with room for the rest (database files,
//! the listener, the log, refusals in flight). The soft limit is raised toward the hard one
//! when the connections need it, as Go and nginx do; when it cannot be, a default limit is
//! lowered to fit, and a limit given on the command line is kept with a warning.

/// Descriptors the sandbox uses besides connections and database files: stdio, the log,
/// the listener, the runtime's epoll and wakers, with a margin.
const BASE_DESCRIPTORS: u64 = 16;
/// An SQLite connection holds the database file and its write-ahead log.
const PER_DATABASE_CONNECTION: u64 = 2;

/// Descriptors needed besides the connections themselves.
pub fn reserve(db_pool: u32, refusals_at_once: usize) -> u64 {
    BASE_DESCRIPTORS
        + PER_DATABASE_CONNECTION * u64::from(db_pool)
        + u64::try_from(refusals_at_once).unwrap_or(u64::MAX)
}

/// The connection limit in force and what was done to make it fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub max_connections: usize,
    /// The soft descriptor limit now in force.
    pub descriptors: u64,
    /// Said in the start-up line when not empty.
    pub note: Option<String>,
}

/// Makes room for `wanted` connections: raises the soft limit if needed and possible; then a
/// default (`explicit` false) that still does not fit is lowered, an explicit one kept.
pub fn fit(wanted: usize, explicit: bool, reserve: u64) -> Fitted {
    let needed = u64::try_from(wanted)
        .unwrap_or(u64::MAX)
        .saturating_add(reserve);
    let Some((soft, hard)) = nofile_limit() else {
        return Fitted {
            max_connections: wanted,
            descriptors: 0,
            note: Some("cannot read the descriptor limit (RLIMIT_NOFILE)".to_string()),
        };
    };
    let soft = if soft < needed {
        raise_soft_limit(needed.min(hard)).unwrap_or(soft)
    } else {
        soft
    };
    if soft >= needed {
        return Fitted {
            max_connections: wanted,
            descriptors: soft,
            note: None,
        };
    }
    let room = usize::try_from(soft.saturating_sub(reserve)).unwrap_or(usize::MAX);
    if explicit {
        Fitted {
            max_connections: wanted,
            descriptors: soft,
            note: Some(format!(
                "--max-connections {wanted} needs about {needed} file descriptors but the limit \
                 is {soft} (ulimit -n): beyond about {room} connections accepts will fail"
            )),
        }
    } else {
        let lowered = room.max(1);
        Fitted {
            max_connections: lowered,
            descriptors: soft,
            note: Some(format!(
                "connection limit lowered from {wanted} to {lowered} to fit the descriptor \
                 limit of {soft} (ulimit -n)"
            )),
        }
    }
}

// `rlim_t` is 32 bits on some targets; the conversions are no-ops where it is `u64`.
#[allow(clippy::useless_conversion)]
fn nofile_limit() -> Option<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (status == 0).then(|| (u64::from(limit.rlim_cur), u64::from(limit.rlim_max)))
}

/// Sets the soft limit; the limit in force afterwards.
#[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
fn raise_soft_limit(to: u64) -> Option<u64> {
    let (_, hard) = nofile_limit()?;
    let limit = libc::rlimit {
        rlim_cur: libc::rlim_t::try_from(to.min(hard)).ok()?,
        rlim_max: libc::rlim_t::try_from(hard).ok()?,
    };
    // SAFETY: setrlimit reads one rlimit from the struct we own.
    let status = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    if status != 0 {
        return None;
    }
    nofile_limit().map(|(soft, _)| soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_that_fits_is_kept() {
        let fitted = fit(4, false, 8);
        assert_eq!(fitted.max_connections, 4);
        assert_eq!(fitted.note, None);
    }

    #[test]
    fn an_impossible_default_is_lowered_and_an_explicit_one_kept_with_a_warning() {
        let (_, hard) = nofile_limit().expect("RLIMIT_NOFILE");
        let beyond = usize::try_from(hard.min(1 << 40)).expect("fits");
        let lowered = fit(beyond, false, 8);
        assert!(lowered.max_connections < beyond, "{lowered:?}");
        assert!(lowered.note.is_some_and(|note| note.contains("lowered")));
        let kept = fit(beyond, true, 8);
        assert_eq!(kept.max_connections, beyond);
        assert!(
            kept.note
                .is_some_and(|note| note.contains("accepts will fail"))
        );
    }
}

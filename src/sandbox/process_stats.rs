//! The `process_*` metrics the Python client exports on Linux, read from `/proc/self`.
//! Elsewhere they are left out, as the Python client does.

use std::fmt::Write as _;

use super::metrics::gauge;

/// Linux's fixed accounting units: clock ticks per second and the page size. `sysconf` would
/// say the same on every Linux target we build for.
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_SIZE: u64 = 4096;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub cpu_seconds: f64,
    pub start_time_seconds: f64,
    pub open_fds: u64,
    pub max_fds: Option<u64>,
}

/// Reads the current process's figures; `None` where `/proc` is not there.
pub fn read() -> Option<ProcessStats> {
    read_pid("self")
}

/// Reads another process's figures, as the embedded supervisor does for its child.
pub fn read_pid(pid: &str) -> Option<ProcessStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = parse_stat(&stat)?;
    let boot_time = boot_time_seconds()?;
    let open_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count() as u64)
        .unwrap_or(0);
    let max_fds = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .ok()
        .and_then(|limits| parse_max_open_files(&limits));
    Some(ProcessStats {
        resident_bytes: fields.rss_pages * PAGE_SIZE,
        virtual_bytes: fields.vsize_bytes,
        cpu_seconds: (fields.utime_ticks + fields.stime_ticks) as f64 / TICKS_PER_SECOND,
        start_time_seconds: boot_time + fields.start_ticks as f64 / TICKS_PER_SECOND,
        open_fds,
        max_fds,
    })
}

/// Resident memory of a process from `/proc/PID/statm`: cheap enough to read ten times a
/// second, as the embedded supervisor does to enforce its memory limit.
pub fn read_rss(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * PAGE_SIZE)
}

struct StatFields {
    utime_ticks: u64,
    stime_ticks: u64,
    start_ticks: u64,
    vsize_bytes: u64,
    rss_pages: u64,
}

/// `/proc/PID/stat`: the command name may hold spaces and parentheses, so fields are counted
/// from the last `)`.
fn parse_stat(stat: &str) -> Option<StatFields> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field numbers in proc(5) start at 1 with pid; `fields[0]` here is field 3 (state).
    let field = |number: usize| -> Option<u64> { fields.get(number - 3)?.parse().ok() };
    Some(StatFields {
        utime_ticks: field(14)?,
        stime_ticks: field(15)?,
        start_ticks: field(22)?,
        vsize_bytes: field(23)?,
        rss_pages: field(24)?,
    })
}

fn boot_time_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

fn parse_max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

pub fn render(out: &mut String) {
    let Some(stats) = read() else {
        return;
    };
    gauge(
        out,
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        stats.virtual_bytes,
    );
    gauge(
        out,
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        stats.resident_bytes,
    );
    gauge(
        out,
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        stats.start_time_seconds,
    );
    out.push_str(
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n",
    );
    out.push_str("# TYPE process_cpu_seconds_total counter\n");
    let _ = writeln!(out, "process_cpu_seconds_total {}", stats.cpu_seconds);
    gauge(
        out,
        "process_open_fds",
        "Number of open file descriptors.",
        stats.open_fds,
    );
    if let Some(max) = stats.max_fds {
        gauge(
            out,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            max,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    150 50 0 0 20 0 9 0 123456 104857600 2560 18446744073709551615";
        let fields = parse_stat(stat).expect("parses");
        assert_eq!(fields.utime_ticks, 150);
        assert_eq!(fields.stime_ticks, 50);
        assert_eq!(fields.start_ticks, 123456);
        assert_eq!(fields.vsize_bytes, 104857600);
        assert_eq!(fields.rss_pages, 2560);
    }

    #[test]
    fn max_open_files_is_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let stats = read().expect("/proc is there on Linux");
        assert!(stats.resident_bytes > 0);
        assert!(stats.open_fds > 0);
        let rss = read_rss(std::process::id()).expect("statm");
        assert!(rss > 0);
    }
}

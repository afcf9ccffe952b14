//! Several processes behind one address: gunicorn's workers each keep their own counters, and
//! each scrape of `/metrics` reaches one of them, so rates jump between workers' figures. Seen
//! when `process_start_time_seconds` goes back to a value it had before another one: a restart
//! changes it once, alternating workers change it back and forth.

use std::collections::VecDeque;

use super::exposition::Exposition;
use crate::signals::UnixSeconds;

const START_TIME: &str = "process_start_time_seconds";

/// Start times seen by recent scrapes.
#[derive(Debug, Default)]
pub struct ProcessSightings {
    seen: VecDeque<(UnixSeconds, f64)>,
}

impl ProcessSightings {
    pub fn push(&mut self, at: UnixSeconds, exposition: &Exposition, window_s: f64) {
        let start = exposition
            .samples
            .iter()
            .find(|sample| sample.name == START_TIME && sample.value.is_finite())
            .map(|sample| sample.value);
        if let Some(start) = start {
            self.seen.push_back((at, start));
        }
        while self
            .seen
            .front()
            .is_some_and(|(seen_at, _)| at - seen_at > window_s)
        {
            self.seen.pop_front();
        }
    }

    /// How many processes answer behind the address: 1 unless a start time came back after
    /// another one within the window, then the number of start times seen.
    pub fn count(&self) -> usize {
        let mut distinct: Vec<f64> = Vec::new();
        let mut returned = false;
        let mut previous: Option<f64> = None;
        for (_, start) in &self.seen {
            if previous.is_some_and(|last| last != *start) && distinct.contains(start) {
                returned = true;
            }
            if !distinct.contains(start) {
                distinct.push(*start);
            }
            previous = Some(*start);
        }
        if returned { distinct.len() } else { 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(start: f64) -> Exposition {
        let text = format!("# TYPE {START_TIME} gauge\n{START_TIME} {start}\n");
        crate::sources::exposition::parse(&text).expect("a valid exposition")
    }

    #[test]
    fn one_process_and_a_restart_are_one_two_workers_alternating_are_two() {
        let mut one = ProcessSightings::default();
        for at in 0..10 {
            one.push(f64::from(at), &scrape(100.0), 15.0);
        }
        assert_eq!(one.count(), 1);
        // A restart changes the start time once: still one process.
        one.push(10.0, &scrape(200.0), 15.0);
        one.push(11.0, &scrape(200.0), 15.0);
        assert_eq!(one.count(), 1);

        let mut two = ProcessSightings::default();
        for (at, start) in [(0.0, 100.0), (1.0, 101.0), (2.0, 101.0), (3.0, 100.0)] {
            two.push(at, &scrape(start), 15.0);
        }
        assert_eq!(two.count(), 2);
        // Once only one is seen for a whole window, it is one again.
        for at in 4..25 {
            two.push(f64::from(at), &scrape(100.0), 15.0);
        }
        assert_eq!(two.count(), 1);
    }
}

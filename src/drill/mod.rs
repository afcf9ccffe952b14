//! Guided drills: cases as data, the phase machine, and session records.

pub mod command;

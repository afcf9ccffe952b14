//! What a drill leaves behind, read back: `gameday sessions` lists, shows and compares the
//! session records in `<data dir>/sessions/` and writes a postmortem from one of them.
//!
//! Everything here but `command` and `store` is pure: records and cases in, text out.
//! `replay` makes a record ready for the dashboard to play back.

mod chart;
pub mod command;
mod document;
mod facts;
mod history;
mod postmortem;
pub mod replay;
mod show;
mod store;
mod words;

#[cfg(test)]
mod tests;

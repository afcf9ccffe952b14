//! `gameday`: a terminal dashboard for incident-response practice on the FinCore payment API.
#![deny(clippy::unwrap_used)]

pub mod cli;
pub mod logging;
pub mod sandbox;
pub mod units;

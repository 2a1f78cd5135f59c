//! End-to-end tests: each test starts its own private `nats-server` and the three service binaries,
//! and talks to them through the public subjects only (plus JetStream stream counters to check that
//! a command wrote exactly the events it should).
//!
//! Build the services first: `cargo build --workspace --bins` (deploy/test.sh does this).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod approval;
mod bad_input;
mod board;
mod browser;
mod chaos;
mod cluster;
mod concurrency;
mod discovery;
mod documents;
mod evolution;
mod floor;
mod full_flow;
mod fuzz;
mod gateway;
mod ics;
mod idempotency;
mod identities;
mod instances;
mod junk;
mod large_record;
mod large_requests;
mod limits;
mod minutes_pages;
mod notice;
mod operations;
mod persons;
mod poison;
mod presence;
mod records;
mod reminders;
mod reply_subject;
mod reschedule;
mod restarts;
mod roll_call;
mod security;
mod standard_clients;
mod streams;
mod tasks;
mod technical_check;

//! The billing engine: the ledger (one workspace's billing state machine), strategies as
//! data, and the replay of one workspace over one usage stream. No files, no randomness, no
//! threads.

pub mod ledger;
pub mod monthly;
pub mod reading;
pub mod replay;
pub mod strategy;

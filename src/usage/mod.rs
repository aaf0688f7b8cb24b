//! Where usage comes from: synthetic models (the only floating point, quantised to credits
//! before the engine sees it) and imported traces (CSV and Parquet through polars). Both yield
//! the engine's usage stream (`Vec<CreditUsage>`); neither makes a billing decision. An
//! imported trace keeps each workspace's usage packed (`packed`) until it is replayed.

pub mod exact;
pub mod packed;
pub mod poisson;
pub mod synthetic;
pub mod trace;
pub mod unit_rate;
pub mod window;

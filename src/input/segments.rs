//! A customer base described as segments: customer profiles (`input::profile`), each with
//! the number of customers it stands for. `impact` simulates `paths` customers per segment
//! (customer k of a segment is path k of `simulate` on its profile, the profile's seed) and
//! weighs each by the segment's customers / paths.
//!
//! ```toml
//! [segments]
//! name = "customer mix 2026"
//! paths = 200                # simulated customers per segment (default 200)
//!
//! [[segment]]
//! name = "vision teams"
//! profile = "../profiles/acme-vision.toml"    # relative to this file
//! customers = 120
//! ```

use super::profile::{self, Profile};
use super::scenario::parse_toml;
use super::values::{count, Count};
use crate::model::diag::{InputError, Source};
use serde::Deserialize;
use toml::Spanned;

pub const PATHS_DEFAULT: u32 = 200;
pub const PATHS_MAX: u32 = 10_000;
pub const SEGMENTS_MAX: usize = 100;
/// Most customers one segment stands for.
pub const CUSTOMERS_MAX: u32 = 1_000_000_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegments {
    segments: Spanned<RawHeader>,
    #[serde(default)]
    segment: Vec<RawSegment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    paths: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    name: Spanned<String>,
    profile: Spanned<String>,
    customers: Count,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub customers: u64,
    pub profile: Profile,
}

#[derive(Debug, Clone)]
pub struct Segments {
    pub name: String,
    pub paths: u32,
    pub segments: Vec<Segment>,
    pub source: Source,
}

/// Reads a segments file and every profile it names; the profiles must share one pricing
/// book and one horizon (revenue is summed month by month).
pub fn load(path: &std::path::Path) -> Result<Segments, InputError> {
    let source = Source::read(path)?;
    let raw: RawSegments = parse_toml(&source)?;
    let header = raw.segments.get_ref();
    let paths = match &header.paths {
        None => PATHS_DEFAULT,
        Some(p) => count(&source, "paths", p, 1..=PATHS_MAX)?,
    };
    if raw.segment.is_empty() || raw.segment.len() > SEGMENTS_MAX {
        return Err(source.error(
            raw.segments.span(),
            format!(
                "give 1-{SEGMENTS_MAX} [[segment]] tables (this file has {})",
                raw.segment.len()
            ),
        ));
    }
    let mut segments: Vec<Segment> = Vec::with_capacity(raw.segment.len());
    for s in &raw.segment {
        let name = s.name.get_ref().trim().to_string();
        if name.is_empty() || segments.iter().any(|x| x.name == name) {
            return Err(source.error(
                s.name.span(),
                "segment names must be non-empty and distinct",
            ));
        }
        let customers = u64::from(count(
            &source,
            "customers",
            &s.customers,
            1..=CUSTOMERS_MAX,
        )?);
        let file = source.relative(s.profile.get_ref());
        if !file.is_file() {
            return Err(source.error(
                s.profile.span(),
                format!("profile {} not found", file.display()),
            ));
        }
        let profile = profile::load(&file)?;
        if let Some(first) = segments.first() {
            same_book_and_horizon(&source, s, &first.profile, &profile)?;
        }
        if profile.scenario.simulation.is_none() {
            return Err(source.error(s.profile.span(), "the profile has no usage to simulate"));
        }
        segments.push(Segment {
            name,
            customers,
            profile,
        });
    }
    Ok(Segments {
        name: header.name.clone(),
        paths,
        segments,
        source,
    })
}

fn same_book_and_horizon(
    source: &Source,
    s: &RawSegment,
    first: &Profile,
    this: &Profile,
) -> Result<(), InputError> {
    let book = |p: &Profile| {
        (p.scenario.inputs.iter())
            .find(|i| i.role == "pricing book")
            .map(|i| i.sha256.clone())
    };
    if book(first) != book(this) {
        return Err(source.error(
            s.profile.span(),
            "this profile's pricing book differs from the first segment's: segments are priced by one book today",
        ));
    }
    let (a, b) = (first.scenario.case.horizon, this.scenario.case.horizon);
    if a != b {
        return Err(source.error(
            s.profile.span(),
            format!(
                "this profile's horizon ({} to {}) differs from the first segment's ({} to {}): revenue is summed month by month",
                crate::model::calendar::display(b.start),
                crate::model::calendar::display(b.end),
                crate::model::calendar::display(a.start),
                crate::model::calendar::display(a.end)
            ),
        ));
    }
    Ok(())
}

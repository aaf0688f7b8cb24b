//! Where a result came from, recorded in every output (Parquet key-value metadata, JSON,
//! the HTML footer): the creditsim version, the command line, each input file with its
//! SHA-256, and the settings that drew the numbers (seed, paths).

use serde_json::{Map, Value};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// (key, value) in the order they are shown.
    pub entries: Vec<(String, String)>,
}

impl Provenance {
    /// Starts a record for a run of `command_line` (the arguments as given).
    pub fn new(command_line: &str) -> Provenance {
        let mut p = Provenance::default();
        p.push("creditsim", env!("CARGO_PKG_VERSION"));
        p.push("command", command_line);
        p
    }

    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        self.entries.push((key.to_string(), value.into()));
    }

    /// An input file, by its path and the SHA-256 of the bytes that were read.
    pub fn input(&mut self, role: &str, path: &Path, sha256: &str) {
        self.push(role, format!("{} (sha256 {sha256})", path.display()));
    }

    /// The record as a JSON object, keys as shown.
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        Value::Object(map)
    }

    /// Parquet key-value metadata: each key under a `creditsim.` prefix.
    pub fn to_key_values(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(k, v)| (format!("creditsim.{}", k.replace(' ', "_")), v.clone()))
            .collect()
    }
}

impl super::Doc {
    /// Records `provenance` in the document: the HTML footer, and a `provenance` object in
    /// the JSON data.
    pub fn set_provenance(&mut self, provenance: &Provenance) {
        self.provenance = provenance.entries.clone();
        if let Value::Object(map) = &mut self.data {
            map.insert("provenance".to_string(), provenance.to_json());
        }
    }
}

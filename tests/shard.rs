//! `portfolio --shard K/N` and `portfolio merge`: the shards of a split, merged in any order,
//! give the files one run writes (the tables byte for byte, the summary's data equal; only
//! the provenance's command line differs); a missing or repeated shard is refused.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::root;

const PORTFOLIO: [&str; 5] = [
    "scenarios/examples/portfolio.toml",
    "--trace",
    "notebooks-data/traces/portfolio.parquet",
    "--accounts",
    "notebooks-data/accounts.csv",
];

fn creditsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn without_provenance(stdout: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(stdout).unwrap();
    v.as_object_mut().unwrap().remove("provenance");
    v
}

fn rows_of(csv: &Path) -> usize {
    std::fs::read_to_string(csv).unwrap().lines().count() - 1
}

#[test]
fn merged_shards_are_the_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let one = ok(creditsim(
        &[
            &["portfolio"][..],
            &PORTFOLIO,
            &["--out", &at("one"), "--format", "json"],
        ]
        .concat(),
    ));
    let mut shard_rows = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = at(&format!("shard-{k}"));
        ok(creditsim(
            &[
                &["portfolio"][..],
                &PORTFOLIO,
                &["--shard", &shard, "--out", &out],
            ]
            .concat(),
        ));
        shard_rows += rows_of(&dir.path().join(format!("shard-{k}/workspaces.csv")));
    }
    // 20 workspaces x 3 strategies, each workspace in exactly one shard.
    assert_eq!(shard_rows, 60);
    let merged = ok(creditsim(&[
        "portfolio",
        "merge",
        &at("shard-2"),
        &at("shard-3"),
        &at("shard-1"),
        "--out",
        &at("merged"),
        "--format",
        "json",
    ]));
    assert_eq!(
        without_provenance(&merged.stdout),
        without_provenance(&one.stdout)
    );
    for file in ["workspaces.csv", "summary.csv"] {
        let a = std::fs::read(dir.path().join("one").join(file)).unwrap();
        let b = std::fs::read(dir.path().join("merged").join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }

    // Every shard of the split, once.
    let missing = creditsim(&["portfolio", "merge", &at("shard-1"), &at("shard-2")]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("shard 3/3 is missing"));
    let twice = creditsim(&[
        "portfolio",
        "merge",
        &at("shard-1"),
        &at("shard-1"),
        &at("shard-2"),
    ]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(twice.stdout.is_empty());
    let one_run = creditsim(&["portfolio", "merge", &at("one")]);
    assert_eq!(
        one_run.status.code(),
        Some(2),
        "a folder without shard.json"
    );
    for wrong in ["0/3", "4/3", "3", "a/b"] {
        let out = creditsim(&[&["portfolio"][..], &PORTFOLIO, &["--shard", wrong]].concat());
        assert_eq!(out.status.code(), Some(2), "--shard {wrong}");
    }
}

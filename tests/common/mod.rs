//! What several integration tests share: the crate's root and running the built binary.

use std::path::Path;
use std::process::Command;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `creditsim ARGS` from the crate's root and asserts it succeeded.
pub fn creditsim_ok(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

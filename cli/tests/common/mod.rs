//! Running the `kerust` binary and reading its tables.

use std::path::Path;
use std::process::Command;

/// Runs `kerust args...`: (success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kerust"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `p` as a command-line argument.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The table row that starts with `name`, its cells trimmed.
pub fn row(text: &str, name: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("│ {name} ")))
        .unwrap_or_else(|| panic!("no row for {name} in\n{text}"));
    line.split('│')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

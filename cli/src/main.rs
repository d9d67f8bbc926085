//! The `kerust` command-line tool.

fn main() {}

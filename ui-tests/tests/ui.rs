//! Compile-fail and pass cases for `kerust::model!` and the shape-checked layer types.
//!
//! The `.stderr` snapshots belong to the toolchain named in `ui-tests/README.md`;
//! regenerate them with `TRYBUILD=overwrite cargo test -p kerust-ui-tests`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

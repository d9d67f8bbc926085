//! Links the firmware with cortex-m-rt's `link.x` and this board's `memory.x` (mps2-an386),
//! and passes the paths of the embedded data files to the firmware.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    // cortex-m-rt's linker script (it includes memory.x); here rather than in the config's
    // rustflags, which a RUSTFLAGS variable in the environment would replace.
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=memory.x");

    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // The digits model's weights; overridable so that a test can build against a file that
    // does not fit the model and watch the build fail.
    path_var("KERUST_EMBEDDED_WEIGHTS", manifest.join("data/weights.bin"));
    // The 784-64-10 build's weights and samples (written by the desktop example).
    path_var(
        "KERUST_EMBEDDED_FASHION_DIR",
        manifest.join("target/fashion-data"),
    );
}

/// Passes `name` to rustc: the environment's value (absolute, or relative to this crate)
/// or `default`.
fn path_var(name: &str, default: PathBuf) {
    println!("cargo:rerun-if-env-changed={name}");
    let path = env::var_os(name).map_or(default, PathBuf::from);
    let path = if path.is_absolute() {
        path
    } else {
        env::current_dir().expect("current dir").join(path)
    };
    println!("cargo:rustc-env={name}={}", path.display());
}

//! Host side of the embedded example: builds the firmware (`..`), runs it under QEMU
//! (`qemu-system-arm -machine mps2-an386`) and compares what it prints with the desktop's
//! results ([`results`]). `tests/qemu.rs` holds the checks; `cargo test` here runs them.
#![deny(missing_docs)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub mod results;

/// The firmware crate's directory.
pub fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The firmware's target directory (fixed, whatever `CARGO_TARGET_DIR` says).
pub fn target_dir() -> PathBuf {
    firmware_dir().join("target")
}

/// The ELF of firmware binary `bin` (release profile).
pub fn elf(bin: &str) -> PathBuf {
    target_dir().join("thumbv7em-none-eabihf/release").join(bin)
}

/// Runs `cargo SUBCOMMAND --release ARGS...` in the firmware crate (which builds for
/// thumbv7em-none-eabihf) with extra environment variables.
///
/// # Errors
///
/// Cargo's stderr when it fails.
pub fn cargo(subcommand: &str, args: &[&str], env: &[(&str, &Path)]) -> Result<String, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(firmware_dir())
        .arg(subcommand)
        .arg("--release")
        .arg("--target-dir")
        .arg(target_dir())
        .args(args)
        // The firmware's own .cargo/config.toml picks the target; nothing from this test's
        // build may leak into it.
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(stderr)
    } else {
        Err(stderr)
    }
}

/// Runs `elf` under QEMU (Cortex-M4 on the MPS2 AN386 board, output through semihosting)
/// and returns its stdout.
///
/// # Errors
///
/// When `qemu-system-arm` cannot be started, the firmware exits with a non-zero status
/// (a panic prints its message and exits with 1), or it runs longer than `timeout`.
pub fn qemu(elf: &Path, timeout: Duration) -> Result<String, String> {
    let mut child = Command::new("qemu-system-arm")
        .args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic"])
        .args(["-monitor", "none", "-serial", "none"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot start qemu-system-arm ({e}); install it, e.g. `apt-get install qemu-system-arm`")
        })?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} ran longer than {timeout:?} under QEMU",
                elf.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap_or_default();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    if status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{} under QEMU exited with {status}\n--- stdout (end) ---\n{}\n--- stderr ---\n{err}",
            elf.display(),
            tail(&out, 20)
        ))
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

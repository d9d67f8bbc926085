//! The firmware under QEMU reproduces the desktop: the same predictions and logits within
//! 1e-4 for inference, the same falling loss curve for on-device training; and a weights
//! file that does not fit the model stops the build.
//!
//! Needs `qemu-system-arm` and the `thumbv7em-none-eabihf` target. The firmware is built
//! here (`cargo build --release` in `..`); `run.sh` first is not needed, except for the
//! 784-64-10 build, whose data `run.sh` writes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use kerust_embedded_host::results::{compare, parse, Results};
use kerust_embedded_host::{cargo, elf, firmware_dir, qemu};

/// Logits and losses on the device must be within this of the desktop's.
const TOLERANCE: f32 = 1e-4;
const QEMU_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds the digits firmware once for all tests.
fn build_digits() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        cargo(
            "build",
            &["--bin", "digits-inference", "--bin", "digits-train"],
            &[],
        )
        .map(drop)
    });
    if let Err(e) = built {
        panic!("building the firmware failed:\n{e}");
    }
}

fn data(file: &str) -> PathBuf {
    firmware_dir().join("data").join(file)
}

fn expected(path: &Path) -> Results {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs firmware binary `bin` under QEMU; its output parsed.
fn run(bin: &str) -> Results {
    let out = qemu(&elf(bin), QEMU_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let results = parse(&out).unwrap_or_else(|e| panic!("{bin}: {e}"));
    let stack = results.stack_peak_bytes.unwrap_or(0);
    assert!(stack > 0, "{bin} printed no `stack_peak_bytes` line");
    results
}

#[test]
fn inference_on_the_device_matches_the_desktop() {
    build_digits();
    let desktop = expected(&data("expected-inference.txt"));
    assert!(
        desktop.samples.len() >= 100,
        "expected-inference.txt holds too few samples"
    );
    let device = run("digits-inference");
    let agreement = compare(&desktop, &device, TOLERANCE)
        .unwrap_or_else(|e| panic!("QEMU differs from the desktop: {e}"));
    let (hits, count) = device.accuracy.expect("an accuracy line");
    println!(
        "digits-inference: {count} predictions equal to the desktop's, accuracy {hits}/{count}, \
         largest logit difference {:e}",
        agreement.max_logit_diff
    );
}

#[test]
fn training_on_the_device_lowers_the_loss_as_on_the_desktop() {
    build_digits();
    let desktop = expected(&data("expected-train.txt"));
    assert!(
        desktop.losses.len() >= 2,
        "expected-train.txt holds no loss curve"
    );
    let device = run("digits-train");
    assert_eq!(
        device.losses.len(),
        desktop.losses.len(),
        "one `loss:` line per step"
    );
    for (step, pair) in device.losses.windows(2).enumerate() {
        assert!(
            pair[1] < pair[0],
            "the loss rose from step {} to {}: {:?}",
            step + 1,
            step + 2,
            device.losses
        );
    }
    let (first, last) = (device.losses[0], device.losses[device.losses.len() - 1]);
    assert!(last < 0.8 * first, "the loss fell too little: {first} -> {last}");
    // Loss curve, then predictions and logits of the fine-tuned model.
    let agreement = compare(&desktop, &device, TOLERANCE)
        .unwrap_or_else(|e| panic!("QEMU differs from the desktop: {e}"));
    let (hits, count) = device.accuracy.expect("an accuracy line");
    println!(
        "digits-train: loss {first} -> {last} over {} steps (largest difference from the desktop {:e}); \
         fine-tuned accuracy {hits}/{count}, largest logit difference {:e}",
        device.losses.len(),
        agreement.max_loss_diff,
        agreement.max_logit_diff
    );
}

#[test]
fn fashion_budget_build_matches_the_desktop() {
    let dir = firmware_dir().join("target/fashion-data");
    if !dir.join("weights.bin").exists() {
        println!("skipped: no {} (run.sh writes it)", dir.display());
        return;
    }
    cargo(
        "build",
        &["--features", "fashion", "--bin", "fashion-inference"],
        &[],
    )
    .unwrap_or_else(|e| panic!("building fashion-inference failed:\n{e}"));
    let desktop = expected(&dir.join("expected-inference.txt"));
    let device = run("fashion-inference");
    compare(&desktop, &device, TOLERANCE).unwrap_or_else(|e| panic!("QEMU differs from the desktop: {e}"));
}

/// `cargo check`s the inference build against a weights file derived from the committed
/// one by `tamper`, and returns the compiler's message.
fn check_with_weights(name: &str, tamper: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut bytes = std::fs::read(data("weights.bin")).expect("data/weights.bin");
    tamper(&mut bytes);
    let dir = std::env::temp_dir().join(format!("kerust-embedded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.bin"));
    std::fs::write(&path, bytes).expect("write tampered weights");
    let result = cargo(
        "check",
        &["--bin", "digits-inference"],
        &[("KERUST_EMBEDDED_WEIGHTS", &path)],
    );
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(_) => panic!("the firmware built with {name} weights"),
        Err(stderr) => stderr,
    }
}

#[test]
fn weights_that_do_not_fit_the_model_fail_the_build() {
    type Tamper = fn(&mut Vec<u8>);
    let cases: [(&str, Tamper, &str); 4] = [
        (
            "one-parameter-too-many",
            |b| {
                let n = u32::from_le_bytes(b[4..8].try_into().unwrap()) + 1;
                b[4..8].copy_from_slice(&n.to_le_bytes());
                b.extend_from_slice(&[0; 4]);
            },
            "its parameter count differs from the model's PARAM_COUNT",
        ),
        (
            "other-architecture",
            |b| b[8] ^= 1,
            "its layer signature differs from the model's",
        ),
        (
            "truncated",
            |b| b.truncate(b.len() - 4),
            "its length is not 16 + 4 * parameter count",
        ),
        (
            "not-weights",
            |b| b[0] = b'X',
            "not a kerust embedded weights file",
        ),
    ];
    for (name, tamper, message) in cases {
        let stderr = check_with_weights(name, tamper);
        assert!(
            stderr.contains(message),
            "{name}: the build failed, but without {message:?}:\n{stderr}"
        );
        println!("{name}: the build fails with {message:?}");
    }
}

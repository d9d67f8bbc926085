#!/usr/bin/env bash
# Build times of the examples, and what one `model!` declaration adds to an incremental
# build. Wall-clock seconds of `cargo build` (what a user waits for); `--timings` writes the
# per-crate breakdown to target/cargo-timings/ for the clean build.
#
#   benches/compile/compile_time.sh            # from the workspace root
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
target="$(mktemp -d)"
probe="$(mktemp -d)"
trap 'rm -rf "$target" "$probe" "$log"' EXIT
log="$(mktemp)"
# Seconds `"$@"` takes; stops the script with cargo's output if it fails.
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "FAILED: $*" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

echo "clean release build of every example (fresh target dir, --timings):"
echo "  $(secs cargo build --release --examples --timings --target-dir "$target") s"
cp -r "$target/cargo-timings" "$root/target/" 2>/dev/null || true

touch examples/quickstart.rs
echo "incremental release build after touching examples/quickstart.rs:"
echo "  $(secs cargo build --release --example quickstart --target-dir "$target") s"

# A crate with one model: a 1-layer declaration, then a 10-layer one; each build after an
# edit of that file only, the dependencies already built (same target dir).
mkdir -p "$probe/src"
cat >"$probe/Cargo.toml" <<TOML
[package]
name = "compile-probe"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
kerust = { path = "$root" }
[workspace]
TOML
write() {
    {
        echo 'use kerust::prelude::*;'
        echo 'model! {'
        echo '    pub struct Net: Input<28, 28, 1> {'
        if [[ "$1" == 10 ]]; then
            echo '        c1: Conv2D(16, 3, padding = same, activation = relu),'
            echo '        b1: BatchNormalization,'
            echo '        p1: MaxPooling2D(2),'
            echo '        c2: Conv2D(32, 3, padding = same, activation = relu),'
            echo '        p2: MaxPooling2D(2),'
            echo '        f:  Flatten,'
            echo '        d1: Dense(128, activation = relu),'
            echo '        dr: Dropout(0.3),'
            echo '        d2: Dense(64, activation = relu),'
            echo '        out: Dense(10),'
        else
            echo '        f:  Flatten,'
            echo '        out: Dense(10),'
        fi
        echo '    }'
        echo '}'
        # Inference and training both instantiated: forward, backward, the trainer.
        echo "fn main() -> kerust::Result<()> {"
        echo "    let model = Net::new($2);"
        echo "    println!(\"{}\", model.forward(&[[[0.0; 1]; 28]; 28]).len());"
        echo "    let data = Dataset::new(vec![0.5; 2 * 784], &[28, 28, 1], Target::Classes(vec![0, 1]))?;"
        echo "    let mut trainer = model.compile(Adam::default(), SparseCategoricalCrossentropy::from_logits(), [Metric::Accuracy]);"
        echo "    trainer.fit(&data, FitOptions { epochs: 1, batch_size: 2, verbose: Verbosity::Silent, ..Default::default() })?;"
        echo "    Ok(())"
        echo "}"
    } >"$probe/src/main.rs"
}
build() { secs cargo build --release --manifest-path "$probe/Cargo.toml" --target-dir "$target"; }
write 2 0
echo "first build of the probe crate (kerust for its workspace): $(build) s"
for layers in 2 10 2 10 2 10; do
    write "$layers" "$RANDOM"
    t="$(build)"
    echo "incremental release build of a crate whose model! has $layers layers: $t s"
done

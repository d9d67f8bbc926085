#!/usr/bin/env bash
# Builds the embedded example's firmware, runs every build under QEMU (Cortex-M4, MPS2 AN386
# board, output through semihosting) and reports what each uses of flash and RAM.
#
#   examples/embedded/run.sh
#
# Builds (thumbv7em-none-eabihf, release):
#   digits-inference   the desktop's 64-32-10 digits MLP (weights in flash) on 360 test digits
#   digits-train       the same, fine-tuned on the device (last Dense layer, SGD), then tested
#   fashion-inference  a 784-64-10 MLP on Fashion-MNIST images: the memory-budget build
#
# For each build it prints `params: N`, `accuracy: 0.XXXX (hits/count)`, `flash_bytes: N`
# (.vector_table + .text + .rodata + .data's initial values) and `ram_bytes: N` (.data +
# .bss + .uninit + the peak stack the firmware measured), and for the training build its
# `loss: X (step S)` lines. It fails (non-zero exit) when a build or a run fails, when the
# training loss does not fall at every step, or when the 784-64-10 inference build does not
# fit 256 KiB of flash and 32 KiB of RAM. Full outputs go to target/qemu/BUILD.log.
#
# Needs: cargo with the thumbv7em-none-eabihf target, qemu-system-arm, readelf, timeout.
# The host test (host/, `cargo test` there) compares the outputs with the desktop's.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

readonly QEMU_TIMEOUT="${KERUST_QEMU_TIMEOUT:-120}"
readonly BUILD_TIMEOUT="${KERUST_BUILD_TIMEOUT:-1800}"
readonly FLASH_BUDGET=$((256 * 1024))
readonly RAM_BUDGET=$((32 * 1024))
readonly TARGET=thumbv7em-none-eabihf
readonly ELF_DIR="$here/target/$TARGET/release"
readonly LOG_DIR="$here/target/qemu"
readonly FASHION_DIR="$here/target/fashion-data"

die() {
    echo "run.sh: $*" >&2
    exit 1
}

for tool in cargo qemu-system-arm readelf timeout awk; do
    command -v "$tool" >/dev/null || die "needs \`$tool\` on PATH (qemu-system-arm: apt-get install qemu-system-arm)"
done

echo "==> desktop: the 784-64-10 model's weights and test images for the budget build"
# Run from the kerust workspace root: this directory's .cargo/config.toml targets the MCU.
(cd "$root" && timeout "$BUILD_TIMEOUT" cargo run --release --example embedded_train -- --fashion "$FASHION_DIR")

echo "==> build: digits-inference, digits-train and fashion-inference for $TARGET (release)"
timeout "$BUILD_TIMEOUT" cargo build --release --target-dir "$here/target" --bin digits-inference --bin digits-train
timeout "$BUILD_TIMEOUT" cargo build --release --target-dir "$here/target" --features fashion --bin fashion-inference

# The size in bytes of section $2 of ELF $1 (0 when absent).
section() {
    local hex
    hex="$(readelf -S -W "$1" | awk -v name="$2" '
        { for (i = 1; i <= NF; i++) if ($i == name) { print $(i + 4); exit } }')"
    echo $((16#${hex:-0}))
}

mkdir -p "$LOG_DIR"
summary=()

# Runs build $1 under QEMU and prints its report.
run_build() {
    local bin="$1" elf="$ELF_DIR/$1" log="$LOG_DIR/$1.log"
    echo
    echo "==> $bin: QEMU (log: ${log#"$here"/})"
    local rc=0
    timeout "$QEMU_TIMEOUT" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
        -monitor none -serial none -semihosting-config enable=on,target=native \
        -kernel "$elf" >"$log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        tail -n 20 "$log" >&2
        if [[ $rc -eq 124 ]]; then die "$bin ran longer than ${QEMU_TIMEOUT}s under QEMU"; fi
        die "$bin failed under QEMU (exit status $rc)"
    fi
    head -n 1 "$log"
    grep -E '^loss: ' "$log" || true
    local params accuracy stack
    # The first line names the model: "..., N parameters ...".
    params="$(awk 'NR == 1 { for (i = 2; i <= NF; i++) if ($i ~ /^parameters/) { print $(i - 1); exit } }' "$log")"
    accuracy="$(grep -E '^accuracy: ' "$log" | tail -n 1)" || die "$bin printed no accuracy line"
    stack="$(awk '/^stack_peak_bytes: / { print $2 }' "$log")"
    [[ -n "$stack" ]] || die "$bin printed no stack_peak_bytes line"

    local vt text rodata data bss uninit flash ram
    vt="$(section "$elf" .vector_table)"
    text="$(section "$elf" .text)"
    rodata="$(section "$elf" .rodata)"
    data="$(section "$elf" .data)"
    bss="$(section "$elf" .bss)"
    uninit="$(section "$elf" .uninit)"
    flash=$((vt + text + rodata + data))
    ram=$((data + bss + uninit + stack))
    echo "params: $params"
    echo "$accuracy"
    echo "flash_bytes: $flash (.vector_table $vt + .text $text + .rodata $rodata + .data $data)"
    echo "ram_bytes: $ram (.data $data + .bss $bss + .uninit $uninit + peak stack $stack)"
    summary+=("$(printf '%-18s %8s %12s %10s   %s' "$bin" "$params" "$flash" "$ram" "${accuracy#accuracy: }")")
    LAST_FLASH=$flash
    LAST_RAM=$ram
    LAST_LOG=$log
}

run_build digits-inference

run_build digits-train
# The on-device loss must fall at every step.
awk '/^loss: / { n++; if (n > 1 && $2 >= prev) { bad = 1 } prev = $2 }
     END { exit !(n >= 2 && !bad) }' "$LAST_LOG" ||
    die "the on-device training loss did not fall at every step"

run_build fashion-inference
if ((LAST_FLASH > FLASH_BUDGET || LAST_RAM > RAM_BUDGET)); then
    die "the 784-64-10 inference build needs $LAST_FLASH bytes of flash and $LAST_RAM of RAM: over the budget of $FLASH_BUDGET and $RAM_BUDGET"
fi
echo "budget: the 784-64-10 inference build fits $((FLASH_BUDGET / 1024)) KiB of flash and $((RAM_BUDGET / 1024)) KiB of RAM"

echo
echo "==> memory report (bytes)"
printf '%-18s %8s %12s %10s   %s\n' build params flash_bytes ram_bytes accuracy
printf '%s\n' "${summary[@]}"

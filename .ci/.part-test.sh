#!/usr/bin/env bash
# CI entry point: formatting, lints, tests, docs, the no_std builds and the quickstart.
# Runs from a clean clone; `.github/workflows/ci.yml` calls it.
set -euo pipefail

cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
if [[ "${CI:-}" == "true" ]]; then
    export CARGO_INCREMENTAL=0
fi

readonly THUMB=thumbv7em-none-eabihf
readonly MIN_ACCURACY=0.95

passed=()
skipped=()
current=""

summary() {
    echo
    echo "==> summary"
    local s
    for s in ${passed[@]+"${passed[@]}"}; do echo "    passed:  $s"; done
    for s in ${skipped[@]+"${skipped[@]}"}; do echo "    skipped: $s"; done
}

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        summary
        echo "    FAILED:  ${current:-setup} (exit status $rc)"
    fi
}
trap on_exit EXIT

step() {
    current="$1"
    echo
    echo "==> $1: $2"
}

pass() { passed+=("$current"); }
skip() {
    echo "    skipped: $1"
    skipped+=("$current ($1)")
}

# ---------------------------------------------------------------------------------------
step deny "dependencies: licences, bans and sources (cargo deny check licenses bans sources)"
if ! cargo deny --version >/dev/null 2>&1; then
    echo "    cargo-deny is missing; installing it from crates.io"
    cargo install cargo-deny --locked || true
fi
if cargo deny --version >/dev/null 2>&1; then
    cargo deny check licenses bans sources
    pass
else
    echo "    cannot check: cargo-deny could not be installed"
    skip "cargo-deny unavailable"
fi

# ---------------------------------------------------------------------------------------
readonly FUZZ_SECONDS=20
readonly FUZZ_TARGETS=(weights checkpoint npy npz idx)
step fuzz "each loader's fuzz target runs ${FUZZ_SECONDS}s without a crash (fuzz/, cargo fuzz on nightly)"
fuzz_ok=true
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "    cannot fuzz: no nightly toolchain (cargo-fuzz needs it for the sanitizer flags)"
    fuzz_ok=false
elif ! cargo fuzz --version >/dev/null 2>&1; then
    echo "    cargo-fuzz is missing; installing it from crates.io"
    cargo install cargo-fuzz --locked || true
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "    cannot fuzz: cargo-fuzz could not be installed"
        fuzz_ok=false
    fi
fi
if $fuzz_ok; then
    fuzz_work="$(mktemp -d)"
    # One build for all targets, then each target starts from its seeds (fuzz/seeds, which
    # also hold the inputs of past crashes) with a fresh corpus outside the clone. An
    # allocation over 512 MiB counts as a crash: no loader may allocate what its input does
    # not back.
    (cd fuzz && cargo +nightly fuzz build)
    for t in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "$fuzz_work/$t"
        rc=0
        (cd fuzz && cargo +nightly fuzz run "$t" "$fuzz_work/$t" "seeds/$t" -- \
            -max_total_time="$FUZZ_SECONDS" -malloc_limit_mb=512 -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1) >"$fuzz_work/$t.log" 2>&1 || rc=$?
        runs="$(grep -E '^stat::number_of_executed_units' "$fuzz_work/$t.log" | awk '{ print $2 }' || true)"
        if [[ $rc -ne 0 ]]; then
            tail -n 60 "$fuzz_work/$t.log"
            echo "    fuzz target $t FAILED (exit status $rc); the input is in fuzz/artifacts/$t"
            exit 1
        fi
        echo "    $t: ${runs:-?} executions in ${FUZZ_SECONDS}s, no crash"
    done
    rm -rf "$fuzz_work"
    pass
else
    skip "nightly or cargo-fuzz unavailable"
fi


summary

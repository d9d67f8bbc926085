#!/usr/bin/env bash
# kerust vs PyTorch eager vs Keras 3 (JAX backend; TF backend for W2) on the reference
# workloads W1..W6 (../shared/WORKLOADS.md), run on this machine workload by workload with
# the systems alternating (kerust, then each peer, for W1, then for W2, ...), ROUNDS times,
# then a markdown table of the medians with ratios and the fp32 GEMM peak.
#
#   benches/compare.sh                 # everything, 1 round (~15 min on a quiet 2-core machine)
#   ROUNDS=3 benches/compare.sh        # 3 rounds: the table shows the median of the rounds
#   SKIP_PEERS=1 benches/compare.sh    # kerust only; reuses the peers' last results
#   QUICK=1 benches/compare.sh         # smoke sizes everywhere (numbers meaningless)
#   WORKLOADS="W3,W4 W5,W6" benches/compare.sh   # only these groups
#   MAX_WAIT=30 (default): longest wait for a quiet machine before each measurement, s
#
# Needs the peers' venv (../shared/peers/README.md): PEERS_VENV, default /tmp/peers-venv.
# Results go to OUTDIR (default target/compare): peers.jsonl, kerust.jsonl (one line per
# workload and round; each value is itself the median of REPS repetitions, default 3),
# peak.jsonl, gemm.txt (one-thread GEMM, kerust vs matrixmultiply), machine.txt, table.md.
# SYSTEMS (default "torch keras-jax keras-tf:W2") chooses the peers; an entry
# `system:W1,W2` limits that system to those workloads. W3 also runs on candle (a Rust
# program of its own, benches/peers/candle-w3, 2 rayon threads); CANDLE=0 leaves it out.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PEERS_DIR=${PEERS_DIR:-$ROOT/../shared/peers}
PEERS_VENV=${PEERS_VENV:-/tmp/peers-venv}
OUTDIR=${OUTDIR:-$ROOT/target/compare}
SYSTEMS=${SYSTEMS:-"torch keras-jax keras-tf:W2"}
ROUNDS=${ROUNDS:-1}
REPS=${REPS:-3}
WORKLOADS=${WORKLOADS:-"W1 W2 W3,W4 W5,W6"}
# Longest wait for a quiet machine before each measurement, seconds (both sides).
MAX_WAIT=${MAX_WAIT:-30}
mkdir -p "$OUTDIR"
PY="$PEERS_VENV/bin/python"
load() { cut -d' ' -f1-3 /proc/loadavg; }

quick_peer=() quick_kerust=()
if [[ -n "${QUICK:-}" ]]; then
    quick_peer=(--smoke --max-wait 0)
    quick_kerust=(--quick)
fi

echo "== building kerust's workloads (release)" >&2
cargo build --release -p kerust-benches --bin workloads --bin gemm >&2
# The binary as built now: later edits to the sources (by someone else, during the peers'
# runs) do not change what is measured.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BINDIR=$(mktemp -d)
cp "$TARGET_DIR/release/workloads" "$TARGET_DIR/release/gemm" "$BINDIR/"
BIN=$BINDIR/workloads

# candle on W3 (benches/peers/candle-w3: the fastest peer there in ../shared/peers/RESULTS.md),
# built once, run after the other peers in each round; CANDLE=0 leaves it out.
CANDLE_BIN=""
if [[ "${CANDLE:-1}" != 0 && -z "${SKIP_PEERS:-}" && " ${WORKLOADS//,/ } " == *" W3 "* ]]; then
    echo "== building candle's W3 (benches/peers/candle-w3, release)" >&2
    if cargo build --release --manifest-path "$ROOT/benches/peers/candle-w3/Cargo.toml" >&2; then
        cp "$ROOT/benches/peers/candle-w3/target/release/candle-w3" "$BINDIR/"
        CANDLE_BIN=$BINDIR/candle-w3
    else
        echo "   candle's W3 did not build; left out" >&2
    fi
fi

{
    echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(grep -o -m1 -w avx512f /proc/cpuinfo || echo 'no avx512f')"
    echo "kernel: $(uname -r); rustc: $(rustc --version)"
    echo "started: $(date -u +%FT%TZ), load $(load)"
} > "$OUTDIR/machine.txt"
cat "$OUTDIR/machine.txt" >&2

if [[ -z "${SKIP_PEERS:-}" ]]; then
    [[ -x "$PY" ]] || { echo "no peers venv at $PEERS_VENV (see ../shared/peers/README.md)" >&2; exit 1; }
    echo "== fp32 GEMM peak (torch / numpy sgemm), load $(load)" >&2
    "$PY" "$ROOT/benches/compare/peak.py" | tee "$OUTDIR/peak.jsonl" >&2
    echo "== one-thread GEMM: kerust vs matrixmultiply (the gemm bin), load $(load)" >&2
    "$BINDIR/gemm" ${QUICK:+--quick} | tee "$OUTDIR/gemm.txt" >&2
    : > "$OUTDIR/peers.jsonl"
fi
: > "$OUTDIR/kerust.jsonl"

# The peers that run workload group $1 (e.g. "W3,W4"), with the group cut to their list.
peer_runs() {
    local group=$1 spec sys w keep
    for spec in $SYSTEMS; do
        sys=${spec%%:*}
        keep=()
        for w in ${group//,/ }; do
            if [[ "$spec" != *:* ]] || [[ ",${spec#*:}," == *",$w,"* ]]; then keep+=("$w"); fi
        done
        [[ ${#keep[@]} -gt 0 ]] && echo "$sys $(IFS=,; echo "${keep[*]}")"
    done
    return 0
}

for round in $(seq "$ROUNDS"); do
    for group in $WORKLOADS; do
        echo "== round $round, $group: kerust ($(date +%T), load $(load))" >&2
        "$BIN" ${group//,/ } --reps "$REPS" --max-wait "$MAX_WAIT" ${quick_kerust[@]+"${quick_kerust[@]}"} >> "$OUTDIR/kerust.jsonl"
        [[ -n "${SKIP_PEERS:-}" ]] && continue
        while read -r sys wl; do
            echo "== round $round, $wl: $sys ($(date +%T), load $(load))" >&2
            "$PY" "$PEERS_DIR/peers_bench.py" --system "$sys" --workloads "$wl" --reps "$REPS" --max-wait "$MAX_WAIT" \
                --out "$OUTDIR/peers.jsonl" ${quick_peer[@]+"${quick_peer[@]}"} < /dev/null 2>&1 \
                | grep --line-buffered -v -e '^WARNING: All log messages before absl' -e 'oneDNN custom operations are on' \
                | grep --line-buffered -v '^{' >&2 || true
        done < <(peer_runs "$group")
        if [[ -n "$CANDLE_BIN" && ",$group," == *",W3,"* ]]; then
            echo "== round $round, W3: candle ($(date +%T), load $(load))" >&2
            RAYON_NUM_THREADS=2 "$CANDLE_BIN" >> "$OUTDIR/peers.jsonl"
        fi
    done
done
echo "finished: $(date -u +%FT%TZ), load $(load)" >> "$OUTDIR/machine.txt"

peak=()
[[ -s "$OUTDIR/peak.jsonl" ]] && peak=(--peak "$OUTDIR/peak.jsonl")
python3 "$ROOT/benches/compare/table.py" "$OUTDIR/kerust.jsonl" "$OUTDIR/peers.jsonl" ${peak[@]+"${peak[@]}"} \
    | tee "$OUTDIR/table.md"

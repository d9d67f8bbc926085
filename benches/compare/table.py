#!/usr/bin/env python3
"""Markdown table of kerust vs peer systems from JSON-lines results (standard library only).

    table.py RESULTS.jsonl [MORE.jsonl ...] [--peak PEAK.jsonl]

Every line is one object with system, workload, value, unit, accuracy (as printed by
`cargo run --release -p kerust-benches --bin workloads` and ../../../shared/peers/peers_bench.py).
Ratios are kerust's speed relative to each peer: value_kerust / value_peer for throughputs,
value_peer / value_kerust for latencies, so above 1 means kerust is faster. A workload measured
in several rounds (benches/compare.sh with ROUNDS > 1) shows the median of the rounds.
"""
import json
import statistics
import sys

NAMES = {
    "kerust": "kerust",
    "torch": "PyTorch eager",
    "torch-compile": "PyTorch compile",
    "keras-jax": "Keras 3 / JAX",
    "keras-tf": "Keras 3 / TF",
    "keras-torch": "Keras 3 / torch",
}
ORDER = ["kerust", "torch", "keras-jax", "keras-tf", "torch-compile", "keras-torch"]
WHAT = {
    "W1": "MLP train, batch 128",
    "W2": "CNN train, batch 128",
    "W3": "MLP 1 sample",
    "W4": "MLP infer, batch 1024",
    "W5": "CNN 1 sample",
    "W6": "CNN infer, batch 256",
}
# FLOPs per sample (multiply-add = 2): forward of W1's MLP, and of W2's CNN; training is
# forward + kernel gradients + input gradients (none into the first layer).
MLP_FWD = 2 * (784 * 256 + 256 * 128 + 128 * 10)
MLP_TRAIN = 2 * MLP_FWD + 2 * (256 * 128 + 128 * 10)
CNN_FWD = 2 * (26 * 26 * 9 * 32 + 11 * 11 * 288 * 64 + 1600 * 10)
CNN_TRAIN = 2 * CNN_FWD + 2 * (11 * 11 * 288 * 64 + 1600 * 10)
FLOP = {"W1": MLP_TRAIN, "W2": CNN_TRAIN, "W4": MLP_FWD, "W6": CNN_FWD}


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "us":
        return f"{v:,.1f} µs" if v < 1000 else f"{v:,.0f} µs"
    return f"{v / 1000:,.1f}k/s" if v >= 10000 else f"{v:,.0f}/s"


def main():
    args = sys.argv[1:]
    peak = None
    if "--peak" in args:
        i = args.index("--peak")
        with open(args[i + 1]) as f:
            rows = [json.loads(l) for l in f if l.strip()]
        args = args[:i] + args[i + 2:]
        best = [r for r in rows if r.get("workload") == "peak-2-threads"]
        if best:
            peak = max(r["value"] for r in best)
    res = {}
    for path in args:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    r = json.loads(line)
                    res.setdefault((r["system"], r["workload"]), []).append(r)
    # Several rounds: the median of the rounds' values (each already a median of repetitions).
    for key, rs in res.items():
        vals = sorted(r["value"] for r in rs)
        accs = sorted(r["accuracy"] for r in rs if r.get("accuracy") is not None)
        row = dict(rs[-1])
        row["value"] = statistics.median(vals)
        row["accuracy"] = statistics.median(accs) if accs else None
        row["rounds"] = vals
        res[key] = row
    systems = [s for s in ORDER if any(k[0] == s for k in res)]
    systems += sorted({k[0] for k in res} - set(systems) - {"peak"})
    peers = [s for s in systems if s != "kerust"]
    head = ["workload", "unit"] + [NAMES.get(s, s) for s in systems]
    head += [f"kerust ÷ {NAMES.get(p, p)}" for p in peers]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for w in ["W1", "W2", "W3", "W4", "W5", "W6"]:
        rows = {s: res.get((s, w)) for s in systems}
        if not any(rows.values()):
            continue
        unit = next(r["unit"] for r in rows.values() if r)
        cells = [f"{w} {WHAT[w]}", "µs (lower is better)" if unit == "us" else "samples/s"]
        for s in systems:
            r = rows[s]
            cells.append(fmt(r["value"], unit) if r else "—")
        k = rows.get("kerust")
        for p in peers:
            r = rows[p]
            if k and r and r["value"]:
                ratio = r["value"] / k["value"] if unit == "us" else k["value"] / r["value"]
                cells.append(f"**{ratio:.2f}×**" if ratio >= 1 else f"{ratio:.2f}×")
            else:
                cells.append("—")
        print("| " + " | ".join(cells) + " |")
    # Accuracies.
    acc = []
    for w in ["W1", "W2"]:
        parts = [f"{NAMES.get(s, s)} {res[(s, w)]['accuracy']:.4f}" for s in systems
                 if (s, w) in res and res[(s, w)].get("accuracy") is not None]
        if parts:
            acc.append(f"{w}: " + ", ".join(parts))
    if acc:
        print()
        print("Test accuracy after training (W1: 5 epochs, W2: 2 epochs): " + "; ".join(acc) + ".")
    # Fractions of the fp32 peak.
    if peak:
        print()
        print(f"Fraction of the measured 2-thread fp32 GEMM peak ({peak:.0f} GFLOP/s):")
        print()
        print("| workload | MFLOP/sample | " + " | ".join(NAMES.get(s, s) for s in systems) + " |")
        print("|" + "---|" * (2 + len(systems)))
        for w in ["W1", "W2", "W4", "W6"]:
            cells = [w, f"{FLOP[w] / 1e6:.2f}"]
            for s in systems:
                r = res.get((s, w))
                if r:
                    g = r["value"] * FLOP[w] / 1e9
                    cells.append(f"{g:.0f} GFLOP/s ({g / peak:.0%})")
                else:
                    cells.append("—")
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

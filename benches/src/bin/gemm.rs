//! GEMM throughput (GFLOP/s, one thread) of `kerust::kernels::gemm::gemm` at the shapes of
//! the reference workloads (../shared/WORKLOADS.md), next to `matrixmultiply::sgemm` (with
//! its AVX-512 kernel) for reference. Candidates are interleaved within each shape, so that
//! load from other processes hits both alike; each figure is the median of several rounds.
//! The last row, a 1024³ product, is close to the best one core does: compare it with the
//! core's FMA peak (2 × 16 lanes × 2 FLOP per cycle with AVX-512).
//!
//! Operands are plain `Vec`s, as aligned as the allocator makes them: a row-major `op(b)`
//! read in place runs several percent faster when its rows start on 64-byte boundaries.
//!
//! ```sh
//! cargo run --release -p kerust-benches --bin gemm [-- --quick]
//! ```

use std::time::Instant;

use kerust::kernels::gemm::{gemm, Op};

/// One product: `op(a)` is `m × k`, `op(b)` is `k × n`.
struct Problem {
    m: usize,
    n: usize,
    k: usize,
    a: Vec<f32>,
    ta: Op,
    b: Vec<f32>,
    tb: Op,
}

/// A candidate: `c = op(a) · op(b)`.
type Gemm = fn(&Problem, &mut [f32]);

fn kerust_gemm(p: &Problem, c: &mut [f32]) {
    gemm(p.m, p.n, p.k, 1.0, &p.a, p.ta, &p.b, p.tb, 0.0, c);
}

fn matrixmultiply(p: &Problem, c: &mut [f32]) {
    let (m, n, k) = (p.m, p.n, p.k);
    let (ars, acs) = if p.ta == Op::N { (k, 1) } else { (1, m) };
    let (brs, bcs) = if p.tb == Op::N { (n, 1) } else { (1, k) };
    assert!(p.a.len() >= m * k && p.b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the strides stay inside the slices checked above.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            p.a.as_ptr(),
            ars as isize,
            acs as isize,
            p.b.as_ptr(),
            brs as isize,
            bcs as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// (name, m, n, k, op(a), op(b)): `op(a)` is `m × k`, `op(b)` is `k × n`.
const SHAPES: &[(&str, usize, usize, usize, Op, Op)] = &[
    // W1/W4 forward, a whole batch of 128 and one of the training step's two shards of 64.
    ("dense1 fwd b128", 128, 256, 784, Op::N, Op::N),
    ("dense2 fwd b128", 128, 128, 256, Op::N, Op::N),
    ("dense3 fwd b128", 128, 10, 128, Op::N, Op::N),
    ("dense1 fwd b64", 64, 256, 784, Op::N, Op::N),
    ("dense2 fwd b64", 64, 128, 256, Op::N, Op::N),
    ("dense1 fwd b1024", 1024, 256, 784, Op::N, Op::N),
    // Backward: kernel gradients xᵀ·dz and input gradients dz·kernelᵀ.
    ("dense1 dW b128", 784, 256, 128, Op::T, Op::N),
    ("dense1 dW b64", 784, 256, 64, Op::T, Op::N),
    ("dense2 dW b64", 256, 128, 64, Op::T, Op::N),
    ("dense3 dW b64", 128, 10, 64, Op::T, Op::N),
    ("dense2 dx b128", 128, 256, 128, Op::N, Op::T),
    ("dense2 dx b64", 64, 256, 128, Op::N, Op::T),
    ("dense3 dx b64", 64, 128, 10, Op::N, Op::T),
    // W2 convolutions as im2col GEMMs (batch 128): forward, weight and input gradients.
    ("conv1 fwd", 128 * 676, 32, 9, Op::N, Op::N),
    ("conv2 fwd", 128 * 121, 64, 288, Op::N, Op::N),
    ("conv1 dW", 9, 32, 128 * 676, Op::T, Op::N),
    ("conv2 dW", 288, 64, 128 * 121, Op::T, Op::N),
    ("conv2 dcols", 128 * 121, 288, 64, Op::N, Op::T),
    ("square 1024", 1024, 1024, 1024, Op::N, Op::N),
];

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, target_flop) = if quick { (3, 5e7) } else { (9, 2e8) };
    let candidates: &[(&str, Gemm)] = &[("kerust", kerust_gemm), ("matrixmultiply", matrixmultiply)];
    print!("{:<18} {:>18} {:>3}", "shape", "m×n×k", "op");
    for (name, _) in candidates {
        print!(" {name:>15}");
    }
    println!("   (GFLOP/s, median of {rounds})");
    for &(name, m, n, k, ta, tb) in SHAPES {
        let p = Problem {
            m,
            n,
            k,
            a: (0..m * k).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect(),
            ta,
            b: (0..k * n).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect(),
            tb,
        };
        let mut c = vec![0.0f32; m * n];
        let flop = 2.0 * (m * n * k) as f64;
        let reps = ((target_flop / flop) as usize).max(1);
        let mut times = vec![Vec::with_capacity(rounds); candidates.len()];
        for (_, f) in candidates {
            f(&p, &mut c);
        }
        for _ in 0..rounds {
            for ((_, f), t) in candidates.iter().zip(&mut times) {
                let start = Instant::now();
                for _ in 0..reps {
                    f(&p, std::hint::black_box(&mut c));
                }
                t.push(start.elapsed().as_secs_f64() / reps as f64);
            }
        }
        let op = format!("{ta:?}{tb:?}");
        print!("{name:<18} {:>18} {op:>3}", format!("{m}×{n}×{k}"));
        for t in &mut times {
            print!(" {:>15.1}", flop / median(t) / 1e9);
        }
        println!();
    }
}

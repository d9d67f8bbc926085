//! GEMM at the shapes the reference workloads run (`../shared/WORKLOADS.md`), one thread,
//! kerust's packed kernel next to `matrixmultiply` (a known-good AVX-512 sgemm).
//!
//! ```sh
//! cargo bench -p kerust-benches --bench gemm_shapes [-- FILTER]
//! ```
//!
//! The throughput column counts floating-point operations as "items" (`2·m·n·k` per call):
//! `45 Gitem/s` is 45 GFLOP/s.

use divan::counter::ItemsCount;
use divan::Bencher;
use kerust::kernels::gemm::{gemm, Op};

fn main() {
    divan::main();
}

/// One product: `op(a)` is `m × k`, `op(b)` is `k × n`.
#[derive(Clone, Copy, Debug)]
struct Shape {
    name: &'static str,
    m: usize,
    n: usize,
    k: usize,
    ta: Op,
    tb: Op,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}x{}x{} {:?}{:?}",
            self.name, self.m, self.n, self.k, self.ta, self.tb
        )
    }
}

const fn s(name: &'static str, m: usize, n: usize, k: usize, ta: Op, tb: Op) -> Shape {
    Shape {
        name,
        m,
        n,
        k,
        ta,
        tb,
    }
}

/// The products of W1..W6: training runs each batch of 128 as two shards of 64 rows (one
/// per thread), inference runs whole batches (1024 for W4, 256 for W6) on one thread each.
const SHAPES: &[Shape] = &[
    // W1 training, one shard of 64: forward x·W, kernel gradient xᵀ·dz, input gradient dz·Wᵀ.
    s("w1.dense1.fwd", 64, 256, 784, Op::N, Op::N),
    s("w1.dense2.fwd", 64, 128, 256, Op::N, Op::N),
    s("w1.dense3.fwd", 64, 10, 128, Op::N, Op::N),
    s("w1.dense1.dW", 784, 256, 64, Op::T, Op::N),
    s("w1.dense2.dW", 256, 128, 64, Op::T, Op::N),
    s("w1.dense3.dW", 128, 10, 64, Op::T, Op::N),
    s("w1.dense2.dx", 64, 256, 128, Op::N, Op::T),
    s("w1.dense3.dx", 64, 128, 10, Op::N, Op::T),
    // W4: batch 1024.
    s("w4.dense1.fwd", 1024, 256, 784, Op::N, Op::N),
    s("w4.dense2.fwd", 1024, 128, 256, Op::N, Op::N),
    // W2 training, one shard of 64, convolutions as im2col GEMMs.
    s("w2.conv1.fwd", 64 * 676, 32, 9, Op::N, Op::N),
    s("w2.conv2.fwd", 64 * 121, 64, 288, Op::N, Op::N),
    s("w2.conv1.dW", 9, 32, 64 * 676, Op::T, Op::N),
    s("w2.conv2.dW", 288, 64, 64 * 121, Op::T, Op::N),
    s("w2.conv2.dcols", 64 * 121, 288, 64, Op::N, Op::T),
    s("w2.dense.fwd", 64, 10, 1600, Op::N, Op::N),
    s("w2.dense.dW", 1600, 10, 64, Op::T, Op::N),
    // W6: batch 256.
    s("w6.conv1.fwd", 256 * 676, 32, 9, Op::N, Op::N),
    s("w6.conv2.fwd", 256 * 121, 64, 288, Op::N, Op::N),
    // W3 / W5: one sample (a matrix-vector product).
    s("w3.dense1.fwd", 1, 256, 784, Op::N, Op::N),
    // The peak reference.
    s("square.512", 512, 512, 512, Op::N, Op::N),
];

struct Operands {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

fn operands(p: &Shape) -> Operands {
    Operands {
        a: (0..p.m * p.k).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect(),
        b: (0..p.k * p.n).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect(),
        c: vec![0.0; p.m * p.n],
    }
}

fn flop(p: &Shape) -> ItemsCount {
    ItemsCount::new(2 * p.m * p.n * p.k)
}

#[divan::bench(args = SHAPES)]
fn kerust(bencher: Bencher, p: &Shape) {
    let mut o = operands(p);
    bencher.counter(flop(p)).bench_local(|| {
        gemm(
            p.m,
            p.n,
            p.k,
            1.0,
            &o.a,
            p.ta,
            &o.b,
            p.tb,
            0.0,
            divan::black_box(&mut o.c),
        );
    });
}

#[divan::bench(args = SHAPES)]
fn matrixmultiply(bencher: Bencher, p: &Shape) {
    let mut o = operands(p);
    let (ars, acs) = if p.ta == Op::N { (p.k, 1) } else { (1, p.m) };
    let (brs, bcs) = if p.tb == Op::N { (p.n, 1) } else { (1, p.k) };
    bencher.counter(flop(p)).bench_local(|| {
        // SAFETY: the strides stay inside the operands, which `operands` sized for `p`.
        unsafe {
            matrixmultiply::sgemm(
                p.m,
                p.k,
                p.n,
                1.0,
                o.a.as_ptr(),
                ars as isize,
                acs as isize,
                o.b.as_ptr(),
                brs as isize,
                bcs as isize,
                0.0,
                divan::black_box(o.c.as_mut_ptr()),
                p.n as isize,
                1,
            );
        }
    });
}

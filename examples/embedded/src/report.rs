//! Output through semihosting, classification of the embedded samples, peak-stack
//! measurement and exit: what every build of the firmware prints.
//!
//! The line formats are the contract with `run.sh` and the host test (`host/`):
//!
//! ```text
//! sample 12: label 3 pred 3 logits 40a1c2d3 ... (the f32 bit patterns, exact)
//! accuracy: 0.9722 (350/360)
//! loss: 0.123456 (step 1)
//! stack_peak_bytes: 1234
//! ```

use core::fmt::{self, Write};

use cortex_m_semihosting::{debug, hio};

use crate::format::{argmax, Samples};

/// A line of at most 512 bytes, formatted on the stack and written with one semihosting
/// call (longer output is cut).
pub struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }

    /// Writes the line and a newline to the host's stdout.
    pub fn print(mut self) {
        let _ = self.write_str("\n");
        if let Ok(mut out) = hio::hstdout() {
            let _ = out.write_all(&self.buf[..self.len]);
        }
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// `println!` through semihosting, one host call per line.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let mut line = $crate::report::Line::new();
        let _ = ::core::fmt::Write::write_fmt(&mut line, ::core::format_args!($($arg)*));
        line.print();
    }};
}

/// A value with `decimals` digits after the point, rounded half up, by integer arithmetic
/// (keeps core's float formatting code out of the firmware).
pub struct Fixed(pub f32, pub u32);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fixed(v, decimals) = *self;
        if !v.is_finite() {
            return f.write_str(if v.is_nan() { "NaN" } else { "inf" });
        }
        let sign = if v < 0.0 { "-" } else { "" };
        let scale = 10u64.pow(decimals);
        let scaled = (round_half_up(v.abs() as f64 * scale as f64)) as u64;
        write!(f, "{sign}{}", scaled / scale)?;
        if decimals > 0 {
            write!(f, ".{:0width$}", scaled % scale, width = decimals as usize)?;
        }
        Ok(())
    }
}

/// Rounds a non-negative value half up (`f64::round` needs `std`).
fn round_half_up(x: f64) -> f64 {
    let t = x as u64 as f64;
    if x - t >= 0.5 {
        t + 1.0
    } else {
        t
    }
}

/// Classifies every sample with `forward` and prints one line per sample (label, predicted
/// class, the logits' bit patterns) and then the accuracy. Returns the number correct.
pub fn classify<const IN: usize, const OUT: usize>(
    samples: &Samples<'_>,
    forward: impl Fn(&[f32; IN]) -> [f32; OUT],
) -> usize {
    let mut x = [0.0f32; IN];
    let mut hits = 0;
    for i in 0..samples.count {
        samples.write_input(i, &mut x);
        let logits = forward(&x);
        let (label, pred) = (samples.label(i), argmax(&logits) as u32);
        hits += usize::from(label == pred);
        let mut line = Line::new();
        let _ = write!(line, "sample {i}: label {label} pred {pred} logits");
        for v in &logits {
            let _ = write!(line, " {:08x}", v.to_bits());
        }
        line.print();
    }
    print_accuracy(hits, samples.count);
    hits
}

/// Prints `accuracy: 0.XXXX (hits/count)`.
pub fn print_accuracy(hits: usize, count: usize) {
    let accuracy = if count == 0 {
        0.0
    } else {
        hits as f32 / count as f32
    };
    crate::println!("accuracy: {} ({hits}/{count})", Fixed(accuracy, 4));
}

/// The deepest the stack has been since reset, in bytes: the distance from the top of the
/// stack to the lowest word whose paint (`0xCCCC_CCCC`, written over all free RAM by
/// cortex-m-rt's `paint-stack`) has been overwritten.
pub fn stack_peak_bytes() -> usize {
    extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    // Only the addresses of the linker's symbols are taken.
    let (top, bottom) = (&raw const _stack_start as usize, &raw const _stack_end as usize);
    let mut at = bottom;
    // SAFETY: [bottom, top) is the stack region, word aligned (cortex-m-rt's link.x).
    while at < top && unsafe { core::ptr::read_volatile(at as *const u32) } == cortex_m_rt::STACK_PAINT_VALUE
    {
        at += 4;
    }
    top - at
}

/// Prints the peak stack and ends the QEMU session with exit status 0.
pub fn finish() -> ! {
    crate::println!("stack_peak_bytes: {}", stack_peak_bytes());
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

//! The files the desktop writes for the firmware, and their compile-time decoding.
//!
//! Shared by the firmware and the desktop example (`examples/embedded_train.rs`). Every
//! number is little-endian.
//!
//! - **Weights** (`data/weights.bin`): a 16-byte header — magic `KRW1`, the parameter count
//!   (`u32`), the model's [`signature`] (`u32`), a zero `u32` — then the model's flat
//!   parameters ([`kerust::Params::flat`]) as `f32`.
//! - **Samples** (`data/samples.bin`, `data/finetune.bin`): a 16-byte header — magic
//!   `KRS1`, the sample count, the sample length (pixels) and the pixel scale (all `u32`) —
//!   then the pixels of every sample as `u8` (sample after sample) and one `u8` label per
//!   sample. A pixel `p` is the input value `p as f32 / scale` ([`pixel`]), the exact
//!   value kerust's datasets hold.
//!
//! The firmware decodes both in `const` items ([`decode_params`], [`samples`]): a file
//! that does not fit the model stops the build with one of the messages below.

use kerust::{Model, Shape};

/// The length of both headers, in bytes.
pub const HEADER_LEN: usize = 16;
/// The first four bytes of a weights file.
pub const WEIGHTS_MAGIC: [u8; 4] = *b"KRW1";
/// The first four bytes of a samples file.
pub const SAMPLES_MAGIC: [u8; 4] = *b"KRS1";

/// A 32-bit FNV-1a hash of the architecture of `M`: its input shape, then every layer's
/// name, kind (`"Dense"`), output shape and parameter count, in order.
///
/// Two models with equal signatures lay out their flat parameters alike, so a weights file
/// written for one loads into the other; widening a layer, adding, removing, renaming or
/// reordering one changes it. Sizes are hashed as `u32`, so the host and the 32-bit target
/// agree.
pub const fn signature<M: Model>() -> u32 {
    let mut h = Fnv::new();
    let dims = <M::Input as Shape>::DIMS;
    let rank = <M::Input as Shape>::RANK;
    h = h.usize(rank);
    let mut d = 0;
    while d < rank {
        h = h.usize(dims[d]);
        d += 1;
    }
    let layers = M::LAYERS;
    h = h.usize(layers.len());
    let mut i = 0;
    while i < layers.len() {
        let layer = &layers[i];
        h = h.str(layer.name).str(layer.kind).usize(layer.output_shape.len());
        let mut d = 0;
        while d < layer.output_shape.len() {
            h = h.usize(layer.output_shape[d]);
            d += 1;
        }
        h = h.usize(layer.params);
        i += 1;
    }
    h.0
}

/// The header of a weights file for `M`.
pub const fn weights_header<M: Model>() -> [u8; HEADER_LEN] {
    header(WEIGHTS_MAGIC, [M::COUNT as u32, signature::<M>(), 0])
}

/// The header of a samples file.
pub const fn samples_header(count: usize, sample_len: usize, scale: u32) -> [u8; HEADER_LEN] {
    header(SAMPLES_MAGIC, [count as u32, sample_len as u32, scale])
}

/// Decodes a weights file for a model of `N` parameters whose [`signature`] is `signature`.
///
/// # Panics
///
/// When the file does not fit: in a `const` item that is a build error carrying the message.
pub const fn decode_params<const N: usize>(bytes: &[u8], signature: u32) -> [f32; N] {
    if bytes.len() < HEADER_LEN || !starts_with(bytes, WEIGHTS_MAGIC) {
        panic!("weights file: no `KRW1` header; not a kerust embedded weights file");
    }
    if read_u32(bytes, 4) as usize != N {
        panic!(
            "weights file: its parameter count differs from the model's PARAM_COUNT (written \
             for another model); regenerate it with `cargo run --release --example embedded_train`"
        );
    }
    if read_u32(bytes, 8) != signature {
        panic!(
            "weights file: its layer signature differs from the model's (layer names, kinds \
             or shapes changed); regenerate it with `cargo run --release --example embedded_train`"
        );
    }
    if bytes.len() != HEADER_LEN + 4 * N {
        panic!("weights file: its length is not 16 + 4 * parameter count (truncated or padded)");
    }
    let mut params = [0.0f32; N];
    let mut i = 0;
    while i < N {
        let at = HEADER_LEN + 4 * i;
        params[i] = f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        i += 1;
    }
    params
}

/// Samples decoded from a samples file: borrowed pixels and labels, nothing copied.
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a> {
    /// The number of samples.
    pub count: usize,
    /// Pixels per sample.
    pub len: usize,
    /// The divisor from a pixel byte to the input value.
    pub scale: u32,
    /// `count * len` pixel bytes.
    pub pixels: &'a [u8],
    /// `count` class labels.
    pub labels: &'a [u8],
}

impl Samples<'_> {
    /// Writes sample `i` as model input values into `x` (`len` values).
    pub fn write_input(&self, i: usize, x: &mut [f32]) {
        let p = &self.pixels[i * self.len..(i + 1) * self.len];
        for (x, &p) in x.iter_mut().zip(p) {
            *x = pixel(p, self.scale);
        }
    }

    /// The class label of sample `i`.
    pub fn label(&self, i: usize) -> u32 {
        u32::from(self.labels[i])
    }
}

/// The input value of pixel byte `p` at `scale` (kerust's datasets: `p / scale`).
pub fn pixel(p: u8, scale: u32) -> f32 {
    f32::from(p) / scale as f32
}

/// Decodes a samples file whose samples must have `sample_len` pixels (the model's input).
///
/// # Panics
///
/// When the file does not fit: in a `const` item that is a build error carrying the message.
pub const fn samples(bytes: &[u8], sample_len: usize) -> Samples<'_> {
    if bytes.len() < HEADER_LEN || !starts_with(bytes, SAMPLES_MAGIC) {
        panic!("samples file: no `KRS1` header; not a kerust embedded samples file");
    }
    let count = read_u32(bytes, 4) as usize;
    if read_u32(bytes, 8) as usize != sample_len {
        panic!("samples file: its sample length differs from the model's input length");
    }
    let scale = read_u32(bytes, 12);
    if scale == 0 {
        panic!("samples file: pixel scale 0");
    }
    if bytes.len() != HEADER_LEN + count * (sample_len + 1) {
        panic!("samples file: its length is not 16 + count * (sample length + 1)");
    }
    let (_, body) = bytes.split_at(HEADER_LEN);
    let (pixels, labels) = body.split_at(count * sample_len);
    Samples {
        count,
        len: sample_len,
        scale,
        pixels,
        labels,
    }
}

/// The index of the largest value (the first on ties).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

const fn header(magic: [u8; 4], words: [u32; 3]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let mut i = 0;
    while i < 4 {
        h[i] = magic[i];
        i += 1;
    }
    let mut w = 0;
    while w < 3 {
        let b = words[w].to_le_bytes();
        let mut j = 0;
        while j < 4 {
            h[4 + 4 * w + j] = b[j];
            j += 1;
        }
        w += 1;
    }
    h
}

const fn starts_with(bytes: &[u8], magic: [u8; 4]) -> bool {
    bytes[0] == magic[0] && bytes[1] == magic[1] && bytes[2] == magic[2] && bytes[3] == magic[3]
}

const fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// 32-bit FNV-1a, usable in `const fn`.
struct Fnv(u32);

impl Fnv {
    const fn new() -> Self {
        Fnv(0x811c_9dc5)
    }

    const fn byte(self, b: u8) -> Self {
        Fnv((self.0 ^ b as u32).wrapping_mul(0x0100_0193))
    }

    const fn usize(self, v: usize) -> Self {
        let b = (v as u32).to_le_bytes();
        self.byte(b[0]).byte(b[1]).byte(b[2]).byte(b[3])
    }

    const fn str(self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut h = self.usize(b.len());
        let mut i = 0;
        while i < b.len() {
            h = h.byte(b[i]);
            i += 1;
        }
        h
    }
}

//! Weight initialisers with Keras's definitions.

use crate::Rng;

/// Glorot (Xavier) uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`, Keras's
/// default kernel initialiser.
pub fn glorot_uniform(w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
    let limit = libm::sqrtf(6.0 / (fan_in + fan_out).max(1) as f32);
    for v in w {
        *v = rng.uniform_range(-limit, limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glorot_range_and_variance() {
        let mut w = alloc::vec![0.0; 64 * 32];
        glorot_uniform(&mut w, 64, 32, &mut Rng::new(1));
        let limit = (6.0f32 / 96.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= limit));
        // Var of U(-l, l) is l²/3 = 2 / (fan_in + fan_out).
        let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        assert!((var - 2.0 / 96.0).abs() < 0.002, "{var}");
    }
}

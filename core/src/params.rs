//! Parameter storage: every layer and model is a plain block of `f32` values.
//!
//! Layers hold their weights as fixed-size arrays in `#[repr(C)]` structs, so a whole model
//! is one contiguous block of `f32`. Optimizers, gradient reductions and savers work on that
//! block as a single flat slice, in one tight loop, without a heap.

/// A `#[repr(C)]` value made only of `f32` parameters: viewable as one flat slice.
///
/// # Safety
/// Implementors must consist of exactly `COUNT` contiguous `f32` values (arrays of `f32` and
/// other `Params` types in a `#[repr(C)]` struct, zero-sized markers allowed), with no
/// padding: `size_of::<Self>() == 4 * COUNT`.
pub unsafe trait Params: Sized {
    /// The number of `f32` parameters.
    const COUNT: usize;
    /// The value with every parameter zero (for `static` models on targets without a heap).
    const ZERO: Self;

    /// All parameters as one slice, in declaration order.
    fn flat(&self) -> &[f32] {
        const { assert!(core::mem::size_of::<Self>() == 4 * Self::COUNT) };
        if Self::COUNT == 0 {
            // A zero-sized value may be less aligned than f32.
            return &[];
        }
        // SAFETY: the trait's contract; checked above at compile time.
        unsafe { core::slice::from_raw_parts(self as *const Self as *const f32, Self::COUNT) }
    }

    /// All parameters as one mutable slice, in declaration order.
    fn flat_mut(&mut self) -> &mut [f32] {
        const { assert!(core::mem::size_of::<Self>() == 4 * Self::COUNT) };
        if Self::COUNT == 0 {
            return &mut [];
        }
        // SAFETY: as in `flat`; any bit pattern is a valid f32.
        unsafe { core::slice::from_raw_parts_mut(self as *mut Self as *mut f32, Self::COUNT) }
    }

    /// Sets every parameter to zero (used to clear gradients).
    fn zero(&mut self) {
        self.flat_mut().fill(0.0);
    }
}

/// Allocates a zeroed `T` directly on the heap, never on the stack.
///
/// Models can be megabytes; building them on the stack and moving them into a `Box` would
/// overflow small thread stacks.
#[cfg(feature = "alloc")]
pub fn boxed_zeroed<T: Params>() -> alloc::boxed::Box<T> {
    let b = alloc::boxed::Box::<T>::new_zeroed();
    // SAFETY: T is only f32 values and zero-sized markers; all-zero bits are 0.0.
    unsafe { b.assume_init() }
}

//! `.npy` bytes: any input is an error or an array, never a panic or an allocation beyond
//! the input's size; an array read survives a write and reread.
#![no_main]

use kerust::io::npy::{npy_to_bytes, read_npy_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = read_npy_bytes(data) {
        let bytes = npy_to_bytes(&a).expect("an array read writes");
        let b = read_npy_bytes(&bytes).expect("an array written reads");
        assert_eq!(npy_to_bytes(&b).expect("writes"), bytes);
    }
});

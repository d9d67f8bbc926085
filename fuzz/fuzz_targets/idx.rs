//! IDX bytes, plain or gzip-compressed: any input is an error or an array, never a panic or
//! an allocation the input does not back.
#![no_main]

use kerust::io::idx::read_idx_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = read_idx_bytes(data) {
        assert_eq!(a.dims.iter().product::<usize>(), a.data.len());
    }
});

//! `.npz` bytes (zip of `.npy`): any input is an error or arrays, never a panic; memory
//! follows the data actually decompressed, never the sizes the archive declares.
#![no_main]

use kerust::io::npz::{npz_to_bytes, read_npz_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(arrays) = read_npz_bytes(data) {
        if arrays.keys().all(|k| !k.is_empty() && !k.contains('\0')) {
            let bytes = npz_to_bytes(arrays.iter().map(|(k, a)| (k.as_str(), a)), true).expect("writes");
            let again = read_npz_bytes(&bytes).expect("an archive written reads");
            assert_eq!(again.len(), arrays.len());
        }
    }
});

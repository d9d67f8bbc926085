//! A bare-metal program that classifies one input with `kerust_no_std_test::classify`.
//!
//! On `thumbv7em-none-eabihf` it is `no_std` and `no_main` and defines no allocator: that it
//! links at all shows that kerust's inference path needs no heap. It is never flashed or run
//! (there is no vector table or stack set-up); `_start` only roots the code so that the
//! linked size is that of the inference path. On hosted targets it is an ordinary program.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod bare_metal {
    /// The ELF entry point the linker looks for.
    #[no_mangle]
    pub extern "C" fn _start() -> ! {
        let x = core::hint::black_box([[0.5f32; 4]; 4]);
        core::hint::black_box(kerust_no_std_test::classify(&x));
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    let x = [[0.5f32; 4]; 4];
    println!("class {}", kerust_no_std_test::classify(&x));
}

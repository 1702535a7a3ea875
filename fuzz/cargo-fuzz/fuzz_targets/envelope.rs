#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| persistence_fuzz::envelope(data));

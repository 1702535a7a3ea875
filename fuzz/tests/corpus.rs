//! Replays the fuzz corpus and every crash case ever found through the oracles, on stable Rust:
//! what the fuzzer once found stays fixed.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

fn replay(target: &str, oracle: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| oracle(&data)) {
                panic!("{}: {:?}", path.display(), panic.downcast_ref::<String>());
            }
            count += 1;
        }
    }
    assert!(count > 0, "no corpus for {target}");
    eprintln!("{target}: {count} inputs replayed");
}

#[test]
fn envelope_corpus() {
    replay("envelope", persistence_fuzz::envelope);
}

#[test]
fn dynamodb_roundtrip_corpus() {
    replay("dynamodb_roundtrip", persistence_fuzz::dynamodb_roundtrip);
}

#[test]
fn dynamodb_numbers_corpus() {
    replay("dynamodb_numbers", persistence_fuzz::dynamodb_numbers);
}

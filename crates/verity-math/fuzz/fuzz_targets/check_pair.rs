//! Fuzz target: any (gold, pred) byte pair must give a verdict without panicking or hanging.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verity_math::{check, MathOptions};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    // split into gold / pred at the first NUL (or use the whole input for both)
    let (g, p) = match s.find('\0') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (&s[..], &s[..]),
    };
    let _ = check(g, p, &MathOptions::default());
    let _ = check(p, g, &MathOptions::default());
});

//! Optional per-stage wall times on stderr, for profiling: set `LABELAUDIT_TIMINGS=1`.
//! Never part of a report, so output stays deterministic.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LABELAUDIT_TIMINGS").is_some_and(|v| v != "0"))
}

/// Run `f`, printing `name` and its wall time to stderr when timings are enabled.
pub fn stage<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    since(name, start);
    out
}

/// Print `name` and the wall time since `start` when timings are enabled: for a stretch of
/// code that is not one closure.
pub fn since(name: &str, start: Instant) {
    if enabled() {
        eprintln!("timing {name:<24} {:>9.3} s", start.elapsed().as_secs_f64());
    }
}

/// Print a free-form profiling note to stderr when timings are enabled.
pub fn note(text: impl FnOnce() -> String) {
    if enabled() {
        eprintln!("timing   {}", text());
    }
}

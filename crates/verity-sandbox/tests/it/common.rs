//! Shared fixtures: one sandbox per test binary, Python discovery, data loading, parallel map.

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use verity_sandbox::{Language, Sandbox, SandboxConfig};

pub struct Fixture {
    pub sandbox: Sandbox,
    pub python: Language,
}

/// The shared sandbox with Python exposed, or `None` (after printing why) when the test must skip.
pub fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let python = match Language::python("python3") {
                Ok(python) => python,
                Err(error) => {
                    eprintln!("SKIP: python3 not available: {error}");
                    return None;
                }
            };
            let config = SandboxConfig {
                read_only_paths: python.read_only_paths.clone(),
                ..SandboxConfig::default()
            };
            match Sandbox::new(config, workers()) {
                Ok(sandbox) => Some(Fixture { sandbox, python }),
                Err(error) => {
                    if std::env::var_os("VERITY_SANDBOX_TESTS_ALLOW_UNAVAILABLE").is_some() {
                        eprintln!("SKIP: sandbox unavailable: {error}");
                        None
                    } else {
                        panic!("sandbox unavailable (set VERITY_SANDBOX_TESTS_ALLOW_UNAVAILABLE=1 to skip): {error}");
                    }
                }
            }
        })
        .as_ref()
}

pub fn workers() -> usize {
    verity_sandbox::default_workers().clamp(1, 4)
}

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// JSON Lines rows of a (possibly gzipped) file in tests/data.
pub fn read_jsonl(name: &str) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(data_path(name)).expect("test data file");
    let text = if name.ends_with(".gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("gzip");
        text
    } else {
        String::from_utf8(bytes).expect("utf-8")
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect()
}

/// Map `f` over `items` with `workers()` threads, keeping order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers() {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if index >= items.len() {
                    break;
                }
                let value = f(&items[index]);
                *results[index].lock().expect("lock") = Some(value);
            });
        }
    });
    results
        .into_iter()
        .map(|slot| slot.into_inner().expect("lock").expect("computed"))
        .collect()
}

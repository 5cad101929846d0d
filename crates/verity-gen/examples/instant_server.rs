//! An OpenAI-compatible server that answers every completion instantly with a fixed text, for
//! the generation benchmark (`bench/generate/`). Prints its base URL on stdout, then serves
//! until killed.
//!
//! Usage: `instant_server [PORT] [THREADS]` (defaults: any free port, 1 thread).

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let threads = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    verity_gen::testing::MockServer::serve_forever(port, threads)
}

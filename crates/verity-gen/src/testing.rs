//! A local OpenAI-compatible server that injects faults, for tests and benchmarks (feature
//! `testing`).
//!
//! It answers `GET /v1/models` and `POST /v1/chat/completions` / `/v1/completions` over
//! HTTP/1.1 with keep-alive, on 127.0.0.1 and a free port, from its own thread. Replies are a
//! deterministic function of the request (a [`Responder`]), so two runs of the same job get
//! the same texts. Faults are queued ([`MockServer::push_faults`]) and applied to the next
//! completion requests in order; [`MockServer::hang_after`] makes every request after the
//! first N hang (to kill a client at a known point). The server counts completion requests in
//! total and per distinct body, answered or not, and records the `Authorization` headers.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One injected fault (applied to one completion request).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429, with a `Retry-After` in seconds when given.
    RateLimit(Option<f64>),
    /// This status with this JSON error message.
    Status(u16, String),
    /// Wait this long before answering (past the client's timeout).
    Slow(Duration),
    /// 200 with a body that is not JSON.
    Malformed,
    /// Headers and half of the body, then the connection is closed.
    DropMidBody,
    /// Answer with at most this many choices, whatever `n` asked.
    Choices(usize),
}

/// Maps a request body to the content of choice `index`.
pub type Responder = Arc<dyn Fn(&Value, usize) -> String + Send + Sync>;

/// Server state shared with the tests.
pub struct State {
    faults: Mutex<VecDeque<Fault>>,
    /// Completion requests received (answered or not).
    pub completions: AtomicU64,
    /// Completion requests answered with 200 and a full body.
    pub answered: AtomicU64,
    /// `GET /models` requests.
    pub model_lists: AtomicU64,
    per_body: Mutex<HashMap<String, u64>>,
    answered_per_body: Mutex<HashMap<String, u64>>,
    auth: Mutex<Vec<String>>,
    hang_after: Mutex<Option<u64>>,
    required_key: Mutex<Option<String>>,
    models: Mutex<Vec<String>>,
    max_choices: Mutex<Option<usize>>,
    delay: Mutex<Option<Duration>>,
    responder: Mutex<Responder>,
}

/// A running mock server; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// The default reply: a short `<think>` trace and a boxed answer that depends on the prompt
/// and the seed (so samples differ and some match a reference, some not).
pub fn default_responder() -> Responder {
    Arc::new(|body: &Value, index: usize| {
        let prompt = body
            .get("messages")
            .map(|m| m.to_string())
            .or_else(|| body.get("prompt").map(|p| p.to_string()))
            .unwrap_or_default();
        let seed = body.get("seed").and_then(Value::as_u64).unwrap_or(0) + index as u64;
        let h = Sha256::digest(format!("{prompt}|{seed}").as_bytes());
        let value = h[0] % 4;
        format!(
            "<think>\nLet me work on {:02x}{:02x}.\nStep two.\n</think>\nThe answer is \\boxed{{{value}}}.",
            h[1], h[2]
        )
    })
}

impl MockServer {
    /// Start a server on 127.0.0.1 with the default responder.
    pub fn start() -> MockServer {
        MockServer::start_with(default_responder())
    }

    /// Start a server with `responder`.
    pub fn start_with(responder: Responder) -> MockServer {
        let state = Arc::new(State {
            faults: Mutex::default(),
            completions: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            model_lists: AtomicU64::new(0),
            per_body: Mutex::default(),
            answered_per_body: Mutex::default(),
            auth: Mutex::default(),
            hang_after: Mutex::default(),
            required_key: Mutex::default(),
            models: Mutex::new(vec!["mock-model".into()]),
            max_choices: Mutex::default(),
            delay: Mutex::default(),
            responder: Mutex::new(responder),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("mock server runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).ok();
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let st = st.clone();
                        tokio::spawn(async move {
                            let _ = serve(stream, st).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {},
                    _ = shutdown_rx => {},
                }
            });
            runtime.shutdown_background();
        });
        let addr = addr_rx.recv().expect("mock server did not start");
        MockServer {
            addr,
            state,
            _shutdown: shutdown_tx,
        }
    }

    /// Run a server on `port` (0: any) until the process ends, printing its base URL (the
    /// benchmark's instant server).
    pub fn serve_forever(port: u16, threads: usize) -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .enable_all()
            .build()?;
        let server = MockServer {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            state: Arc::new(State {
                faults: Mutex::default(),
                completions: AtomicU64::new(0),
                answered: AtomicU64::new(0),
                model_lists: AtomicU64::new(0),
                per_body: Mutex::default(),
                answered_per_body: Mutex::default(),
                auth: Mutex::default(),
                hang_after: Mutex::default(),
                required_key: Mutex::default(),
                models: Mutex::new(Vec::new()),
                max_choices: Mutex::default(),
                delay: Mutex::default(),
                responder: Mutex::new(Arc::new(|_: &Value, _| "The answer is 4.".to_string())),
            }),
            _shutdown: tokio::sync::oneshot::channel().0,
        };
        runtime.block_on(async move {
            let listener = TcpListener::bind(server.addr).await?;
            println!("http://{}/v1", listener.local_addr()?);
            use std::io::Write;
            std::io::stdout().flush()?;
            loop {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                let st = server.state.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, st).await;
                });
            }
        })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The shared state (counters).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Queue faults for the next completion requests.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults.lock().unwrap().extend(faults);
    }

    /// Answer only the first `n` completion requests; later ones hang forever.
    pub fn hang_after(&self, n: Option<u64>) {
        *self.state.hang_after.lock().unwrap() = n;
    }

    /// Require `Authorization: Bearer KEY` (401 otherwise).
    pub fn require_key(&self, key: &str) {
        *self.state.required_key.lock().unwrap() = Some(key.into());
    }

    /// The model ids `/models` lists (empty: the route answers 404).
    pub fn set_models(&self, models: &[&str]) {
        *self.state.models.lock().unwrap() = models.iter().map(|m| m.to_string()).collect();
    }

    /// Answer every request with at most this many choices (llama.cpp answers one).
    pub fn max_choices(&self, n: Option<usize>) {
        *self.state.max_choices.lock().unwrap() = n;
    }

    /// Wait this long before every completion reply.
    pub fn delay(&self, wait: Option<Duration>) {
        *self.state.delay.lock().unwrap() = wait;
    }

    /// Replace the responder.
    pub fn set_responder(&self, responder: Responder) {
        *self.state.responder.lock().unwrap() = responder;
    }

    /// Completion requests received.
    pub fn completions(&self) -> u64 {
        self.state.completions.load(Ordering::SeqCst)
    }

    /// Completion requests answered in full.
    pub fn answered(&self) -> u64 {
        self.state.answered.load(Ordering::SeqCst)
    }

    /// Distinct request bodies received.
    pub fn distinct_bodies(&self) -> usize {
        self.state.per_body.lock().unwrap().len()
    }

    /// The largest number of full answers any one body got.
    pub fn max_answers_per_body(&self) -> u64 {
        self.state
            .answered_per_body
            .lock()
            .unwrap()
            .values()
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// `GET /models` requests.
    pub fn model_lists(&self) -> u64 {
        self.state.model_lists.load(Ordering::SeqCst)
    }

    /// Every `Authorization` header received.
    pub fn auth_headers(&self) -> Vec<String> {
        self.state.auth.lock().unwrap().clone()
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let mut lines = head.split("\r\n");
            let first = lines.next().unwrap_or("");
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let start = end + 4;
            while buf.len() < start + length {
                let mut chunk = [0u8; 65536];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[start..start + length].to_vec();
            buf.drain(..start + length);
            return Ok(Some(Request {
                method,
                path,
                headers,
                body,
            }));
        }
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    extra: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out).await
}

async fn serve(mut stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await? {
        let auth = req
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone());
        if let Some(a) = &auth {
            state.auth.lock().unwrap().push(a.clone());
        }
        let lists_models = req.method == "GET" && req.path.ends_with("/models");
        if lists_models {
            // Counted whether or not the key is accepted: the client's pre-flight check.
            state.model_lists.fetch_add(1, Ordering::SeqCst);
        }
        let required = state.required_key.lock().unwrap().clone();
        if let Some(key) = required {
            if auth.as_deref() != Some(&format!("Bearer {key}")) {
                let body = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}});
                respond(&mut stream, 401, "", body.to_string().as_bytes()).await?;
                continue;
            }
        }
        if lists_models {
            let models = state.models.lock().unwrap().clone();
            if models.is_empty() {
                respond(&mut stream, 404, "", b"{\"error\":\"no model list\"}").await?;
            } else {
                let data: Vec<Value> = models
                    .iter()
                    .map(|m| json!({"id": m, "object": "model"}))
                    .collect();
                let body = json!({"object": "list", "data": data});
                respond(&mut stream, 200, "", body.to_string().as_bytes()).await?;
            }
            continue;
        }
        let chat = req.path.ends_with("/chat/completions");
        if req.method != "POST" || !(chat || req.path.ends_with("/completions")) {
            respond(&mut stream, 404, "", b"{\"error\":\"no such route\"}").await?;
            continue;
        }
        let count = state.completions.fetch_add(1, Ordering::SeqCst) + 1;
        let body_key = hex::encode(Sha256::digest(&req.body));
        *state
            .per_body
            .lock()
            .unwrap()
            .entry(body_key.clone())
            .or_default() += 1;
        let hang = *state.hang_after.lock().unwrap();
        if hang.is_some_and(|n| count > n) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            respond(
                &mut stream,
                400,
                "",
                b"{\"error\":{\"message\":\"body is not JSON\"}}",
            )
            .await?;
            continue;
        };
        let model = body.get("model").and_then(Value::as_str).unwrap_or("");
        let models = state.models.lock().unwrap().clone();
        if !models.is_empty() && !models.iter().any(|m| m == model) {
            let msg = json!({"error": {"message": format!("The model `{model}` does not exist")}});
            respond(&mut stream, 404, "", msg.to_string().as_bytes()).await?;
            continue;
        }
        let delay = *state.delay.lock().unwrap();
        if let Some(wait) = delay {
            tokio::time::sleep(wait).await;
        }
        let fault = state.faults.lock().unwrap().pop_front();
        let mut choices_cap = *state.max_choices.lock().unwrap();
        match fault {
            Some(Fault::RateLimit(after)) => {
                let extra = after
                    .map(|a| format!("retry-after: {a}\r\n"))
                    .unwrap_or_default();
                let msg = json!({"error": {"message": "Rate limit reached", "type": "rate_limit"}});
                respond(&mut stream, 429, &extra, msg.to_string().as_bytes()).await?;
                continue;
            }
            Some(Fault::Status(code, message)) => {
                let msg = json!({"error": {"message": message}});
                respond(&mut stream, code, "", msg.to_string().as_bytes()).await?;
                continue;
            }
            Some(Fault::Slow(wait)) => tokio::time::sleep(wait).await,
            Some(Fault::Malformed) => {
                respond(&mut stream, 200, "", b"{\"choices\": [{\"message\": ").await?;
                continue;
            }
            Some(Fault::DropMidBody) => {
                let full = reply(&state, &body, chat, None);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    full.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&full[..full.len() / 2]).await?;
                stream.flush().await?;
                return Ok(());
            }
            Some(Fault::Choices(n)) => choices_cap = Some(n),
            None => {}
        }
        let full = reply(&state, &body, chat, choices_cap);
        respond(&mut stream, 200, "", &full).await?;
        state.answered.fetch_add(1, Ordering::SeqCst);
        *state
            .answered_per_body
            .lock()
            .unwrap()
            .entry(body_key)
            .or_default() += 1;
    }
    Ok(())
}

fn reply(state: &State, body: &Value, chat: bool, cap: Option<usize>) -> Vec<u8> {
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1) as usize;
    let n = cap.map_or(n, |c| n.min(c));
    let responder = state.responder.lock().unwrap().clone();
    let model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64);
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let text = responder(body, i);
            let words = text.split_whitespace().count() as u64;
            let finish = if max_tokens.is_some_and(|m| words > m) {
                "length"
            } else {
                "stop"
            };
            if chat {
                json!({"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish})
            } else {
                json!({"index": i, "text": text, "finish_reason": finish})
            }
        })
        .collect();
    let completion: u64 = choices
        .iter()
        .map(|c| {
            c.pointer("/message/content")
                .or_else(|| c.get("text"))
                .and_then(Value::as_str)
                .map_or(0, |t| t.split_whitespace().count() as u64)
        })
        .sum();
    let prompt_tokens = body.to_string().len() as u64 / 4;
    json!({
        "id": "mock",
        "object": if chat { "chat.completion" } else { "text_completion" },
        "model": format!("{model}-served"),
        "choices": choices,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                  "total_tokens": prompt_tokens + completion},
    })
    .to_string()
    .into_bytes()
}

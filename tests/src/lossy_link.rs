//! A link between the API and the emulator that can lose answers: it forwards every request,
//! and when armed, drops the connection instead of returning the answer to the next
//! DynamoDB `TransactWriteItems`. The transaction has landed, its caller never hears, and the
//! SDK sends it again: the retry that DynamoDB (or the emulator) must not turn into an error.
//!
//! Or it answers the next transaction, and every resend of its token, with
//! `TransactionInProgressException` (DynamoDB's answer while a transaction with that token is
//! still being applied) although it landed: the SDK gives up on it, and the store's next
//! attempt, with a token of its own, finds the first one's rows.

use std::sync::Arc;
use std::sync::Mutex;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the link does to the next transactions.
#[derive(Debug, Clone, Default)]
struct Loss {
    /// Answers still to lose.
    answers: usize,
    /// Also remove `ClientRequestToken` from every transaction, as if DynamoDB had forgotten
    /// it (it remembers a token for ten minutes).
    strip_token: bool,
    /// Answer the next transaction "in progress"; then the token it carried.
    in_progress: InProgress,
}

#[derive(Debug, Clone, Default)]
enum InProgress {
    #[default]
    Off,
    Armed,
    /// Every request with this token is answered "in progress".
    Token(String),
}

#[derive(Clone)]
pub struct LossyLink {
    pub endpoint: String,
    loss: Arc<Mutex<Loss>>,
}

impl LossyLink {
    /// Listens on 127.0.0.1 and a free port, forwarding to `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let loss = Arc::new(Mutex::new(Loss::default()));
        let client = crate::http_builder().build().unwrap();
        let upstream = upstream.to_owned();
        let shared = Arc::clone(&loss);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (client, upstream, loss) =
                    (client.clone(), upstream.clone(), Arc::clone(&shared));
                tokio::spawn(serve_connection(stream, client, upstream, loss));
            }
        });
        Self { endpoint, loss }
    }

    /// Loses the answer to the next transaction (it still lands); with `strip_token`, every
    /// transaction from now on is sent without its `ClientRequestToken`.
    pub fn lose_next_transaction_answer(&self, strip_token: bool) {
        *self.loss.lock().unwrap() = Loss {
            answers: 1,
            strip_token,
            in_progress: InProgress::Off,
        };
    }

    /// Lets the next transaction land, and answers it, and every resend of its token,
    /// `TransactionInProgressException`.
    pub fn answer_next_transaction_in_progress(&self) {
        self.loss.lock().unwrap().in_progress = InProgress::Armed;
    }

    /// Whether a transaction has been answered "in progress".
    pub fn answered_in_progress(&self) -> bool {
        matches!(self.loss.lock().unwrap().in_progress, InProgress::Token(_))
    }

    /// Whether the armed loss has happened.
    pub fn answer_lost(&self) -> bool {
        self.loss.lock().unwrap().answers == 0
    }
}

struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One HTTP/1.1 request off the connection; `None` when it ends.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut request = Request {
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    request.body = buffer[head_end..head_end + length].to_vec();
    buffer.drain(..head_end + length);
    Some(request)
}

async fn serve_connection(
    mut stream: TcpStream,
    client: reqwest::Client,
    upstream: String,
    loss: Arc<Mutex<Loss>>,
) {
    let mut buffer = Vec::new();
    while let Some(mut request) = read_request(&mut stream, &mut buffer).await {
        let is_transaction = request
            .header("x-amz-target")
            .is_some_and(|t| t.ends_with(".TransactWriteItems"));
        let token = is_transaction
            .then(|| serde_json::from_slice::<serde_json::Value>(&request.body).ok())
            .flatten()
            .and_then(|json| json["ClientRequestToken"].as_str().map(str::to_owned));
        // (lose the answer, strip the token, answer "in progress", and forward it at all)
        let (lose, strip_token, in_progress, forward) = {
            let mut loss = loss.lock().unwrap();
            let lose = is_transaction && loss.answers > 0;
            if lose {
                loss.answers -= 1;
            }
            let (in_progress, forward) = match (&loss.in_progress, &token) {
                (InProgress::Armed, Some(token)) if is_transaction => {
                    loss.in_progress = InProgress::Token(token.clone());
                    (true, true)
                }
                (InProgress::Token(held), Some(token)) if held == token => (true, false),
                _ => (false, true),
            };
            (
                lose,
                is_transaction && loss.strip_token,
                in_progress,
                forward,
            )
        };
        if in_progress {
            if forward {
                let _ = forward_request(&client, &upstream, &request).await;
            }
            let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionInProgressException","message":"The transaction with the given request token is already in progress."}"#;
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            if stream.write_all(head.as_bytes()).await.is_err()
                || stream.write_all(body.as_bytes()).await.is_err()
            {
                return;
            }
            continue;
        }
        if strip_token
            && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&request.body)
            && let Some(map) = json.as_object_mut()
        {
            map.remove("ClientRequestToken");
            request.body = serde_json::to_vec(&json).unwrap();
        }
        let method = request.head.split(' ').next().unwrap_or("GET").to_owned();
        let Ok(answer) = forward_request(&client, &upstream, &request).await else {
            return;
        };
        let status = answer.status();
        let headers = answer.headers().clone();
        let body = answer.bytes().await.unwrap_or_default();
        if lose {
            // Landed upstream; the caller never hears.
            return;
        }
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        // A HEAD answer's Content-Length is the object's, with no body.
        let is_head = method == "HEAD";
        for (name, value) in &headers {
            let skip = ["transfer-encoding", "connection"].contains(&name.as_str())
                || (name == "content-length" && !is_head);
            if !skip {
                head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or("")));
            }
        }
        if !is_head {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(&body).await.is_err()
        {
            return;
        }
    }
}

/// Sends `request` on to `upstream`, as it came.
async fn forward_request(
    client: &reqwest::Client,
    upstream: &str,
    request: &Request,
) -> reqwest::Result<reqwest::Response> {
    let mut lines = request.head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or("GET");
    let path = request_line.next().unwrap_or("/");
    let mut forwarded = client.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET),
        format!("{upstream}{path}"),
    );
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':')
            && !["host", "content-length", "connection"]
                .contains(&name.trim().to_ascii_lowercase().as_str())
        {
            forwarded = forwarded.header(name.trim(), value.trim());
        }
    }
    forwarded.body(request.body.clone()).send().await
}

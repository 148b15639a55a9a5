//! A link between the API and the emulator that can lose answers: it forwards every request,
//! and when armed, drops the connection instead of returning the answer to the next
//! DynamoDB `TransactWriteItems`. The transaction has landed, its caller never hears, and the
//! SDK sends it again: the retry that DynamoDB (or the emulator) must not turn into an error.

use std::sync::Arc;
use std::sync::Mutex;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the link does to the next transactions.
#[derive(Debug, Clone, Copy, Default)]
struct Loss {
    /// Answers still to lose.
    answers: usize,
    /// Also remove `ClientRequestToken` from every transaction, as if DynamoDB had forgotten
    /// it (it remembers a token for ten minutes).
    strip_token: bool,
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
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
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
        };
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
        let (lose, strip_token) = {
            let mut loss = loss.lock().unwrap();
            let lose = is_transaction && loss.answers > 0;
            if lose {
                loss.answers -= 1;
            }
            (lose, is_transaction && loss.strip_token)
        };
        if strip_token
            && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&request.body)
            && let Some(map) = json.as_object_mut()
        {
            map.remove("ClientRequestToken");
            request.body = serde_json::to_vec(&json).unwrap();
        }
        let mut lines = request.head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or("GET");
        let path = request_line.next().unwrap_or("/");
        let mut forwarded = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
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
        let Ok(answer) = forwarded.body(request.body).send().await else {
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

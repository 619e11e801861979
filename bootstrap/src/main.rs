//! A Lambda function for the OS-only runtimes (`provided.al2023`,
//! `provided.al2`): Lambda starts this program, and lambda_runtime asks the
//! Runtime API (`AWS_LAMBDA_RUNTIME_API`) for each event, then posts the
//! handler's answer, or its error, back.
//!
//! The event is `{"name": "…"}`; the answer `{"message": "Hello, …!"}`, with
//! the name's SHA-256 and the version of the OpenSSL that computed it (linked
//! statically: the runtime's own libssl is not the one the build saw). An
//! event that is not that shape, or an empty name, is reported as the
//! invocation's error, and the function keeps serving.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use openssl::sha::sha256;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Greeting {
    name: String,
}

#[derive(Serialize)]
struct Answer {
    message: String,
    request_id: String,
    name_sha256: String,
    openssl: &'static str,
}

async fn greet(event: LambdaEvent<Greeting>) -> Result<Answer, Error> {
    let (greeting, context) = event.into_parts();
    let name = greeting.name.trim();
    if name.is_empty() {
        return Err("the event's name is empty".into());
    }
    let name_sha256 = sha256(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Answer {
        message: format!("Hello, {name}!"),
        request_id: context.request_id,
        name_sha256,
        openssl: openssl::version::version(),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(greet)).await
}

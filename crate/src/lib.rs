//! A Lambda function for the `python3.6` runtime (Amazon Linux 2017.03), built
//! as the crowbar native module `liblambda.so` with handler `liblambda.handler`.
//!
//! The handler does real work without a network: it SigV4-signs the AWS
//! request described by the event with rusoto's signer, and hashes the body
//! with the statically linked OpenSSL.
//!
//! Event:
//! ```json
//! { "request": { "method": "GET", "service": "iam", "region": "us-east-1",
//!                "path": "/", "query": {"Action": "ListUsers"},
//!                "headers": {"content-type": "..."}, "body": "...",
//!                "endpoint": "optional host for a custom region" },
//!   "credentials": { "access_key_id": "...", "secret_access_key": "...",
//!                    "session_token": "optional" },
//!   "hmac_key": "optional key for body_hmac_sha256" }
//! ```
//! Without `credentials`, the standard `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` variables are used.

#[macro_use(lambda)]
extern crate crowbar;
#[macro_use]
extern crate cpython;

mod event;
mod sign;

use crowbar::{LambdaContext, LambdaResult, Value};

fn handle(event: Value, _context: LambdaContext) -> LambdaResult {
    let request = event::AwsRequest::from_event(&event)?;
    let credentials = event::credentials(&event)?;
    let hmac_key = event::optional_str(&event, "hmac_key")?;
    Ok(sign::sign(&request, &credentials, hmac_key)?)
}

lambda!(handle);

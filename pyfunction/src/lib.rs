//! A Lambda function for today's Python runtimes (python3.9 to python3.14,
//! x86_64 and arm64), built as the PyO3 native module `pyfunction` with
//! handler `pyfunction.handler`: Lambda's Python importer loads the module and
//! calls the Rust function directly, as crowbar did on python3.6.
//!
//! The handler does real work without a network: it SigV4-signs the AWS
//! request described by the event with the `aws-sigv4` crate (the AWS SDK for
//! Rust's signer), and hashes the body with the statically linked OpenSSL.
//!
//! Event:
//! ```json
//! { "request": { "method": "GET", "service": "iam", "region": "us-east-1",
//!                "url": "optional; default https://SERVICE.REGION.amazonaws.com/",
//!                "headers": {"content-type": "..."}, "body": "..." },
//!   "credentials": { "access_key_id": "...", "secret_access_key": "...",
//!                    "session_token": "optional" },
//!   "time": "optional signing time, e.g. 20150830T123600Z",
//!   "hmac_key": "optional key for body_hmac_sha256" }
//! ```
//! Without `credentials`, the standard `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` variables are used. A bad
//! event raises `ValueError` naming the field, which Lambda reports as
//! `{"errorType": "ValueError", "errorMessage": ...}`.

mod event;
mod sign;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The function Lambda calls: `handler(event, context)`. The event comes as
/// Lambda's runtime gives it (parsed JSON); the answer is a dict.
#[pyfunction]
fn handler<'py>(
    py: Python<'py>,
    event: &Bound<'py, PyAny>,
    _context: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let json = py.import("json")?;
    let text: String = json.call_method1("dumps", (event,))?.extract()?;
    let event: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| PyValueError::new_err(format!("the event is not JSON: {e}")))?;
    let answer = handle(&event).map_err(|e| PyValueError::new_err(e.0))?;
    json.call_method1("loads", (answer.to_string(),))
}

fn handle(event: &serde_json::Value) -> Result<serde_json::Value, event::EventError> {
    let request = event::AwsRequest::from_event(event)?;
    let credentials = event::credentials(event)?;
    let time = event::signing_time(event)?;
    let hmac_key = event::optional_str(event, "hmac_key")?;
    sign::sign(&request, credentials, time, hmac_key)
}

#[pymodule]
fn pyfunction(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(handler, m)?)?;
    Ok(())
}

//! Reading the invocation event. Every malformed field becomes an
//! `EventError` naming the field, which crowbar raises as a Python exception.

use std::collections::BTreeMap;
use std::fmt;

use rusoto_credential::AwsCredentials;
use serde_json::Value;

/// A malformed event. Debug prints the message alone because crowbar shows
/// handler errors to Python with `{:?}`.
pub struct EventError(pub String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EventError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EventError {}

fn bad(message: String) -> EventError {
    EventError(message)
}

/// The AWS request the event asks to sign.
pub struct AwsRequest {
    pub method: String,
    pub service: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
}

impl AwsRequest {
    pub fn from_event(event: &Value) -> Result<AwsRequest, EventError> {
        if !event.is_object() {
            return Err(bad(format!(
                "the event must be a JSON object, not {}",
                kind(event)
            )));
        }
        let request = event
            .get("request")
            .ok_or_else(|| bad("the event has no \"request\" object".into()))?;
        if !request.is_object() {
            return Err(bad(format!(
                "event.request must be an object, not {}",
                kind(request)
            )));
        }
        let field = |name: &str| required_str(request, "request", name);
        Ok(AwsRequest {
            method: field("method")?.to_ascii_uppercase(),
            service: field("service")?.to_string(),
            region: field("region")?.to_string(),
            endpoint: optional_str(request, "endpoint")?.map(str::to_string),
            path: optional_str(request, "path")?.unwrap_or("/").to_string(),
            query: string_map(request, "query")?,
            headers: string_map(request, "headers")?,
            body: optional_str(request, "body")?.map(str::to_string),
        })
    }
}

/// Credentials from `event.credentials`, else from the standard environment.
pub fn credentials(event: &Value) -> Result<AwsCredentials, EventError> {
    match event.get("credentials") {
        Some(c) if !c.is_null() => {
            if !c.is_object() {
                return Err(bad(format!(
                    "event.credentials must be an object, not {}",
                    kind(c)
                )));
            }
            Ok(AwsCredentials::new(
                required_str(c, "credentials", "access_key_id")?,
                required_str(c, "credentials", "secret_access_key")?,
                optional_str(c, "session_token")?.map(str::to_string),
                None,
            ))
        }
        _ => {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(key), Some(secret)) => Ok(AwsCredentials::new(
                    key,
                    secret,
                    var("AWS_SESSION_TOKEN"),
                    None,
                )),
                _ => Err(bad(
                    "no credentials: the event has no \"credentials\" object and \
                              AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set"
                        .into(),
                )),
            }
        }
    }
}

/// A string field that may be absent or null.
pub fn optional_str<'a>(object: &'a Value, name: &str) -> Result<Option<&'a str>, EventError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(bad(format!(
            "\"{}\" must be a string, not {}",
            name,
            kind(other)
        ))),
    }
}

fn required_str<'a>(object: &'a Value, parent: &str, name: &str) -> Result<&'a str, EventError> {
    match optional_str(object, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!(
            "event.{}.{} is required (a non-empty string)",
            parent, name
        ))),
    }
}

fn string_map(object: &Value, name: &str) -> Result<BTreeMap<String, String>, EventError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(bad(format!(
                    "event.request.{}.{} must be a string, not {}",
                    name,
                    k,
                    kind(other)
                ))),
            })
            .collect(),
        Some(other) => Err(bad(format!(
            "event.request.{} must be an object, not {}",
            name,
            kind(other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

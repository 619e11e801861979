//! Reading the invocation event. Every malformed field becomes an
//! `EventError` naming the field, which the handler raises as `ValueError`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use serde_json::Value;

/// A malformed event, with the message the caller sees.
#[derive(Debug)]
pub struct EventError(pub String);

fn bad(message: String) -> EventError {
    EventError(message)
}

/// The AWS request the event asks to sign.
pub struct AwsRequest {
    pub method: String,
    pub service: String,
    pub region: String,
    pub url: String,
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
        let service = field("service")?.to_string();
        let region = field("region")?.to_string();
        let url = match optional_str(request, "url")? {
            Some(url) => url.to_string(),
            None => format!("https://{service}.{region}.amazonaws.com/"),
        };
        Ok(AwsRequest {
            method: field("method")?.to_ascii_uppercase(),
            service,
            region,
            url,
            headers: string_map(request, "headers")?,
            body: optional_str(request, "body")?.map(str::to_string),
        })
    }
}

/// Credentials from `event.credentials`, else from the standard environment.
pub fn credentials(event: &Value) -> Result<Credentials, EventError> {
    let make = |key: &str, secret: &str, token: Option<String>| {
        Credentials::new(key, secret, token, None, "lambda-event")
    };
    match event.get("credentials") {
        Some(c) if !c.is_null() => {
            if !c.is_object() {
                return Err(bad(format!(
                    "event.credentials must be an object, not {}",
                    kind(c)
                )));
            }
            Ok(make(
                required_str(c, "credentials", "access_key_id")?,
                required_str(c, "credentials", "secret_access_key")?,
                optional_str(c, "session_token")?.map(str::to_string),
            ))
        }
        _ => {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(key), Some(secret)) => Ok(make(&key, &secret, var("AWS_SESSION_TOKEN"))),
                _ => Err(bad(
                    "no credentials: the event has no \"credentials\" object and \
                     AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set"
                        .into(),
                )),
            }
        }
    }
}

/// The signing time: `event.time` (ISO 8601 basic, `20150830T123600Z`), else now.
pub fn signing_time(event: &Value) -> Result<SystemTime, EventError> {
    let Some(text) = optional_str(event, "time")? else {
        return Ok(SystemTime::now());
    };
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, &format)
        .map(|t| t.assume_utc().into())
        .map_err(|_| {
            bad(format!(
                "event.time must be a UTC time such as 20150830T123600Z, not {text:?}"
            ))
        })
}

/// A string field that may be absent or null.
pub fn optional_str<'a>(object: &'a Value, name: &str) -> Result<Option<&'a str>, EventError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(bad(format!(
            "\"{name}\" must be a string, not {}",
            kind(other)
        ))),
    }
}

fn required_str<'a>(object: &'a Value, parent: &str, name: &str) -> Result<&'a str, EventError> {
    match optional_str(object, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!(
            "event.{parent}.{name} is required (a non-empty string)"
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
                    "event.request.{name}.{k} must be a string, not {}",
                    kind(other)
                ))),
            })
            .collect(),
        Some(other) => Err(bad(format!(
            "event.request.{name} must be an object, not {}",
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

//! Signing with rusoto's SigV4 signer and hashing with OpenSSL.

use std::str::FromStr;

use openssl::hash::{hash, MessageDigest};
use openssl::pkey::PKey;
use openssl::sign::Signer;
use rusoto_core::signature::SignedRequest;
use rusoto_core::Region;
use rusoto_credential::AwsCredentials;
use serde_json::{json, Map, Value};

use crate::event::{AwsRequest, EventError};

/// Signs `request` and returns what a client would send, plus body digests.
pub fn sign(
    request: &AwsRequest,
    credentials: &AwsCredentials,
    hmac_key: Option<&str>,
) -> Result<Value, EventError> {
    let region = match &request.endpoint {
        Some(endpoint) => Region::Custom {
            name: request.region.clone(),
            endpoint: endpoint.clone(),
        },
        None => Region::from_str(&request.region)
            .map_err(|_| EventError(format!("unknown AWS region \"{}\"", request.region)))?,
    };
    let mut signed = SignedRequest::new(&request.method, &request.service, &region, &request.path);
    for (name, value) in &request.query {
        signed.add_param(name.as_str(), value.as_str());
    }
    for (name, value) in &request.headers {
        signed.add_header(name.as_str(), value);
    }
    let body = request.body.as_deref().unwrap_or("");
    if request.body.is_some() {
        signed.set_payload(Some(body.as_bytes().to_vec()));
    }
    signed.sign(credentials);

    let headers: Map<String, Value> = signed
        .headers()
        .iter()
        .map(|(name, values)| {
            let joined: Vec<String> = values
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            (name.clone(), Value::String(joined.join(",")))
        })
        .collect();
    let query = signed.canonical_query_string().to_string();
    let url = format!(
        "{}://{}{}{}{}",
        signed.scheme(),
        signed.hostname(),
        signed.canonical_path(),
        if query.is_empty() { "" } else { "?" },
        query
    );

    Ok(json!({
        "method": request.method,
        "url": url,
        "canonical_uri": signed.canonical_uri(),
        "canonical_query_string": query,
        "headers": headers,
        "body_sha256": sha256_hex(body.as_bytes())?,
        "body_hmac_sha256": match hmac_key {
            Some(key) => Value::String(hmac_sha256_hex(key.as_bytes(), body.as_bytes())?),
            None => Value::Null,
        },
        "openssl": {
            "version": openssl::version::version(),
            "dir": openssl::version::dir(),
        },
    }))
}

fn openssl_error(e: openssl::error::ErrorStack) -> EventError {
    EventError(format!("OpenSSL failed: {}", e))
}

fn sha256_hex(data: &[u8]) -> Result<String, EventError> {
    Ok(hex::encode(
        hash(MessageDigest::sha256(), data).map_err(openssl_error)?,
    ))
}

fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> Result<String, EventError> {
    let key = PKey::hmac(key).map_err(openssl_error)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(openssl_error)?;
    signer.update(data).map_err(openssl_error)?;
    Ok(hex::encode(signer.sign_to_vec().map_err(openssl_error)?))
}

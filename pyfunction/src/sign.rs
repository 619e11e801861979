//! Signing with the AWS SDK's SigV4 signer and hashing with OpenSSL.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use openssl::hash::{hash, MessageDigest};
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::{json, Map, Value};

use crate::event::{AwsRequest, EventError};

/// Signs `request` and returns what a client would send, plus body digests.
pub fn sign(
    request: &AwsRequest,
    credentials: Credentials,
    time: SystemTime,
    hmac_key: Option<&str>,
) -> Result<Value, EventError> {
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&request.region)
        .name(&request.service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| EventError(format!("cannot sign: {e}")))?
        .into();
    let body = request.body.as_deref().unwrap_or("");
    let signable = SignableRequest::new(
        &request.method,
        &request.url,
        request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| EventError(format!("event.request cannot be signed: {e}")))?;
    let (instructions, signature) = sigv4_sign(signable, &params)
        .map_err(|e| EventError(format!("event.request cannot be signed: {e}")))?
        .into_parts();
    let (added, _query) = instructions.into_parts();

    let mut headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.clone())))
        .collect();
    for header in &added {
        headers.insert(
            header.name().to_ascii_lowercase(),
            Value::String(header.value().to_string()),
        );
    }

    Ok(json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "signature": signature,
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
    EventError(format!("OpenSSL failed: {e}"))
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

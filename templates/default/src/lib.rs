//! A greeting, as a Lambda function for the python3.6 runtime:
//! `{"name": "Ada"}` answers `{"greeting": "Hello, Ada!", "characters": 3}`.
//! An event without a string `name` is an error Lambda reports to the caller.

#[macro_use(lambda)]
extern crate crowbar;
#[macro_use]
extern crate cpython;

use crowbar::{LambdaContext, LambdaResult, Value};

fn greet(event: Value, _context: LambdaContext) -> LambdaResult {
    let name = event
        .get("name")
        .and_then(Value::as_str)
        .ok_or("the event needs a name (a string)")?;
    Ok(serde_json::json!({
        "greeting": format!("Hello, {name}!"),
        "characters": name.chars().count(),
    }))
}

lambda!(greet);

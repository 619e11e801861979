//! A greeting, as a Lambda function for today's Python runtimes (a PyO3
//! module, handler `hello_pyo3.handler`): `{"name": "Ada"}` answers
//! `{"greeting": "Hello, Ada!", "characters": 3}`. An event without a string
//! `name` raises `ValueError`, which Lambda reports to the caller.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The function Lambda calls: `handler(event, context)`.
#[pyfunction]
fn handler<'py>(
    py: Python<'py>,
    event: &Bound<'py, PyAny>,
    _context: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let name: String = event
        .get_item("name")
        .and_then(|name| name.extract())
        .map_err(|_| PyValueError::new_err("the event needs a name (a string)"))?;
    let answer = PyDict::new(py);
    answer.set_item("greeting", format!("Hello, {name}!"))?;
    answer.set_item("characters", name.chars().count())?;
    Ok(answer)
}

#[pymodule]
fn hello_pyo3(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(handler, m)?)?;
    Ok(())
}

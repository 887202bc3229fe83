//! What the unit tests of the JS mappings share: most of them check which field a refusal
//! names and what its rule says.

use std::fmt::Debug;

use crate::protocol::error::{Error, Result};

/// The field and the rule of the `InvalidArgument` that `result` must be.
pub fn refusal<T: Debug>(result: Result<T>) -> (&'static str, String) {
    match result {
        Err(Error::InvalidArgument { field, rule }) => (field, rule),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

//! Why the tool stops with a non-zero status: the exit status and the lines for stderr, made
//! by each way of appending (session or spool) and printed by `main`.

use oss_append::SessionError;

use crate::args::Object;
use crate::stdin::StreamError;

/// Why the tool stops with a non-zero status, and the lines it prints on stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: u8,
    /// The first line.
    pub message: String,
    /// What is left of the input and the object, after the message.
    pub notes: Vec<String>,
}

impl Failure {
    pub fn usage(message: String) -> Self {
        Self {
            status: 2,
            message,
            notes: Vec::new(),
        }
    }

    pub fn open(object: &Object, e: &SessionError) -> Self {
        Self {
            status: 1,
            message: format!("cannot open {object}: {e}"),
            notes: Vec::new(),
        }
    }

    pub fn stream(object: &Object, e: &StreamError) -> Self {
        let message = match e {
            StreamError::Append(e) => format!("append to {object} failed: {e}"),
            StreamError::Read(e) => format!("reading stdin failed: {e}"),
        };
        Self {
            status: 1,
            message,
            notes: Vec::new(),
        }
    }
}

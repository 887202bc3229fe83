//! Fault specs: what a [`Fault`] does ([`FaultAction`]), which requests it hits ([`FaultOp`],
//! key, count, skip), and the `name=value` text form used by the CLI and the admin endpoint.

use crate::routing::percent_decode_str;
use std::fmt;
use std::time::Duration;

/// What the emulator does to a request a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Apply the operation (commit the append), then close the connection without answering:
    /// the answer is lost.
    DropAfterCommit,
    /// Read the whole body, then close the connection without applying anything.
    DropBeforeCommit,
    /// Read `after_bytes` of the body (half of `Content-Length` when `None`), then reset the
    /// connection (TCP RST). Nothing is applied.
    ResetMidBody {
        /// Bytes to read first.
        after_bytes: Option<u64>,
    },
    /// Answer this 5xx status with an OSS error body. With `after_commit`, the operation is
    /// applied first (the answer lies about the outcome); otherwise the body is read and
    /// nothing is applied.
    Status {
        /// 500 InternalError, 502 BadGateway, 503 ServiceUnavailable, 504 GatewayTimeout, or
        /// any other 5xx (InternalError).
        status: u16,
        /// Apply the operation before answering.
        after_commit: bool,
    },
    /// Apply the operation, then hold the answer for `ms` milliseconds (past a client's
    /// timeout, typically).
    DelayResponse {
        /// Milliseconds.
        ms: u64,
    },
    /// Read the body at most `bytes_per_sec` (the operation proceeds normally otherwise).
    SlowRead {
        /// Reading rate.
        bytes_per_sec: u64,
    },
    /// Store the appended data with its first byte flipped (and report the CRC-64 of what was
    /// stored), as a corrupting storage path would.
    CorruptBody,
    /// Restart the server as a crash would: every connection is dropped, in-flight requests
    /// end, the store is reloaded from the data directory (in memory mode the data is kept),
    /// the port is closed for `down_ms`, then the server listens again on the same port. With
    /// `after_commit` the operation is applied first.
    Restart {
        /// Apply the operation before restarting.
        after_commit: bool,
        /// How long the port stays closed.
        down_ms: u64,
    },
}

impl FaultAction {
    /// The action's name in specs (`drop-after-commit`, …).
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::DropAfterCommit => "drop-after-commit",
            FaultAction::DropBeforeCommit => "drop-before-commit",
            FaultAction::ResetMidBody { .. } => "reset-mid-body",
            FaultAction::Status { .. } => "status",
            FaultAction::DelayResponse { .. } => "delay-response",
            FaultAction::SlowRead { .. } => "slow-read",
            FaultAction::CorruptBody => "corrupt",
            FaultAction::Restart { .. } => "restart",
        }
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOp {
    /// AppendObject (the default).
    Append,
    /// SealAppendObject.
    Seal,
    /// HeadObject.
    Head,
    /// GetObject.
    Get,
    /// PutObject.
    Put,
    /// DeleteObject.
    Delete,
    /// Any of these.
    Any,
}

impl FaultOp {
    fn name(self) -> &'static str {
        match self {
            FaultOp::Append => "append",
            FaultOp::Seal => "seal",
            FaultOp::Head => "head",
            FaultOp::Get => "get",
            FaultOp::Put => "put",
            FaultOp::Delete => "delete",
            FaultOp::Any => "any",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "append" => FaultOp::Append,
            "seal" => FaultOp::Seal,
            "head" => FaultOp::Head,
            "get" => FaultOp::Get,
            "put" => FaultOp::Put,
            "delete" => FaultOp::Delete,
            "any" => FaultOp::Any,
            _ => {
                return Err(format!(
                    "unknown op {s:?} (append, seal, head, get, put, delete, any)"
                ))
            }
        })
    }

    pub(super) fn matches(self, op: FaultOp) -> bool {
        self == FaultOp::Any || self == op
    }
}

/// One scripted fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What happens.
    pub action: FaultAction,
    /// Which operation it hits.
    pub op: FaultOp,
    /// Only requests for this key (exact match), or any key.
    pub key: Option<String>,
    /// How many matching requests it hits (at least 1).
    pub count: u32,
    /// How many matching requests pass untouched before it starts hitting.
    pub skip: u32,
}

impl Fault {
    /// A fault hitting the next AppendObject (any key) once.
    pub fn new(action: FaultAction) -> Self {
        Fault {
            action,
            op: FaultOp::Append,
            key: None,
            count: 1,
            skip: 0,
        }
    }

    /// [`FaultAction::DropAfterCommit`].
    pub fn drop_after_commit() -> Self {
        Self::new(FaultAction::DropAfterCommit)
    }

    /// [`FaultAction::DropBeforeCommit`].
    pub fn drop_before_commit() -> Self {
        Self::new(FaultAction::DropBeforeCommit)
    }

    /// [`FaultAction::ResetMidBody`] after half the body.
    pub fn reset_mid_body() -> Self {
        Self::new(FaultAction::ResetMidBody { after_bytes: None })
    }

    /// [`FaultAction::Status`] before anything is applied.
    pub fn status(status: u16) -> Self {
        Self::new(FaultAction::Status {
            status,
            after_commit: false,
        })
    }

    /// [`FaultAction::Status`] after the operation was applied.
    pub fn status_after_commit(status: u16) -> Self {
        Self::new(FaultAction::Status {
            status,
            after_commit: true,
        })
    }

    /// [`FaultAction::DelayResponse`].
    pub fn delay_response(delay: Duration) -> Self {
        Self::new(FaultAction::DelayResponse {
            ms: delay.as_millis() as u64,
        })
    }

    /// [`FaultAction::SlowRead`].
    pub fn slow_read(bytes_per_sec: u64) -> Self {
        Self::new(FaultAction::SlowRead { bytes_per_sec })
    }

    /// [`FaultAction::CorruptBody`].
    pub fn corrupt() -> Self {
        Self::new(FaultAction::CorruptBody)
    }

    /// [`FaultAction::Restart`] before anything is applied, port closed 200 ms.
    pub fn restart() -> Self {
        Self::new(FaultAction::Restart {
            after_commit: false,
            down_ms: 200,
        })
    }

    /// Applies to `op` instead of AppendObject.
    pub fn on(mut self, op: FaultOp) -> Self {
        self.op = op;
        self
    }

    /// Applies to requests for `key` only.
    pub fn for_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Hits `count` matching requests.
    pub fn times(mut self, count: u32) -> Self {
        self.count = count.max(1);
        self
    }

    /// Lets `skip` matching requests pass first.
    pub fn after(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// Parses a spec (see the module documentation).
    pub fn parse(spec: &str) -> Result<Fault, String> {
        let (action_name, pairs) = split_spec(spec)?;
        let mut fault = Fault::new(FaultAction::DropAfterCommit);
        let mut params = ActionParams::default();
        for (name, value) in &pairs {
            match name.as_str() {
                "op" => fault.op = FaultOp::parse(value)?,
                "key" => fault.key = Some(value.clone()),
                "count" => {
                    fault.count = u32::try_from(number(name, value)?)
                        .ok()
                        .filter(|c| *c >= 1)
                        .ok_or("count must be between 1 and 2^32-1")?
                }
                "skip" => {
                    fault.skip =
                        u32::try_from(number(name, value)?).map_err(|_| "skip is too large")?
                }
                _ => params.set(name, value)?,
            }
        }
        fault.action = params.action(&action_name)?;
        Ok(fault)
    }
}

/// A spec's `action` value and its other `name=value` pairs (names lower-cased, values
/// percent-decoded), in order.
fn split_spec(spec: &str) -> Result<(String, Vec<(String, String)>), String> {
    let mut action_name: Option<String> = None;
    let mut params: Vec<(String, String)> = Vec::new();
    for part in spec.split([',', '&']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not name=value"))?;
        let value = percent_decode_str(value.trim())
            .ok_or_else(|| format!("bad percent-encoding in {part:?}"))?;
        let name = name.trim().to_ascii_lowercase();
        if name == "action" {
            action_name = Some(value);
        } else {
            params.push((name, value));
        }
    }
    let action_name = action_name.ok_or("missing action=…")?;
    Ok((action_name, params))
}

/// A spec's numeric value.
fn number(name: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .map_err(|_| format!("{name} must be a non-negative integer, got {value:?}"))
}

/// The parameters of the actions, as a spec gives them (any action may carry any of them).
struct ActionParams {
    after_bytes: Option<u64>,
    status: Option<u64>,
    after_commit: bool,
    ms: Option<u64>,
    bytes_per_sec: Option<u64>,
    down_ms: u64,
}

impl Default for ActionParams {
    fn default() -> Self {
        ActionParams {
            after_bytes: None,
            status: None,
            after_commit: false,
            ms: None,
            bytes_per_sec: None,
            down_ms: 200,
        }
    }
}

impl ActionParams {
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "after-bytes" => self.after_bytes = Some(number(name, value)?),
            "status" => self.status = Some(number(name, value)?),
            "after-commit" => {
                self.after_commit = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("after-commit must be true or false, got {value:?}")),
                }
            }
            "ms" => self.ms = Some(number(name, value)?),
            "bytes-per-sec" => self.bytes_per_sec = Some(number(name, value)?),
            "down-ms" => self.down_ms = number(name, value)?,
            _ => return Err(format!("unknown parameter {name:?}")),
        }
        Ok(())
    }

    /// The named action with its parameters; an action missing one it needs is an error.
    fn action(&self, name: &str) -> Result<FaultAction, String> {
        Ok(match name {
            "drop-after-commit" => FaultAction::DropAfterCommit,
            "drop-before-commit" => FaultAction::DropBeforeCommit,
            "reset-mid-body" => FaultAction::ResetMidBody {
                after_bytes: self.after_bytes,
            },
            "status" => {
                let status = self.status.ok_or("action=status needs status=5xx")?;
                if !(500..=599).contains(&status) {
                    return Err(format!("status must be a 5xx code, got {status}"));
                }
                FaultAction::Status {
                    status: status as u16,
                    after_commit: self.after_commit,
                }
            }
            "delay-response" => FaultAction::DelayResponse {
                ms: self.ms.ok_or("action=delay-response needs ms=N")?,
            },
            "slow-read" => {
                let bytes_per_sec = self
                    .bytes_per_sec
                    .ok_or("action=slow-read needs bytes-per-sec=N")?;
                if bytes_per_sec == 0 {
                    return Err("bytes-per-sec must be at least 1".into());
                }
                FaultAction::SlowRead { bytes_per_sec }
            }
            "corrupt" => FaultAction::CorruptBody,
            "restart" => FaultAction::Restart {
                after_commit: self.after_commit,
                down_ms: self.down_ms,
            },
            other => {
                return Err(format!(
                    "unknown action {other:?} (drop-after-commit, drop-before-commit, \
                     reset-mid-body, status, delay-response, slow-read, corrupt, restart)"
                ))
            }
        })
    }
}

impl fmt::Display for Fault {
    /// The spec that parses back to this fault.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "action={}", self.action.name())?;
        match &self.action {
            FaultAction::ResetMidBody {
                after_bytes: Some(n),
            } => write!(f, ",after-bytes={n}")?,
            FaultAction::Status {
                status,
                after_commit,
            } => write!(f, ",status={status},after-commit={after_commit}")?,
            FaultAction::DelayResponse { ms } => write!(f, ",ms={ms}")?,
            FaultAction::SlowRead { bytes_per_sec } => write!(f, ",bytes-per-sec={bytes_per_sec}")?,
            FaultAction::Restart {
                after_commit,
                down_ms,
            } => write!(f, ",after-commit={after_commit},down-ms={down_ms}")?,
            _ => {}
        }
        write!(f, ",op={}", self.op.name())?;
        if let Some(key) = &self.key {
            write!(f, ",key={}", percent_encode(key))?;
        }
        write!(f, ",count={},skip={}", self.count, self.skip)
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for spec in [
            "action=drop-after-commit",
            "action=drop-before-commit,count=2,key=a%2Cb/c%20d.log",
            "action=reset-mid-body&after-bytes=100",
            "action=status,status=503",
            "action=status,status=500,after-commit=true,op=any",
            "action=delay-response,ms=1500,skip=3",
            "action=slow-read,bytes-per-sec=65536",
            "action=corrupt",
            "action=restart,after-commit=true,down-ms=50",
            "op=head,action=status,status=502,count=4",
        ] {
            let fault = Fault::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(Fault::parse(&fault.to_string()).unwrap(), fault, "{spec}");
        }
        let f = Fault::parse("action=drop-before-commit,count=2,key=a%2Cb/c%20d.log").unwrap();
        assert_eq!(f.key.as_deref(), Some("a,b/c d.log"));
        assert_eq!(f.count, 2);
    }

    #[test]
    fn bad_specs_say_why() {
        for (spec, needle) in [
            ("", "missing action"),
            ("action=explode", "unknown action"),
            ("action=status", "needs status"),
            ("action=status,status=404", "5xx"),
            ("action=delay-response", "needs ms"),
            ("action=slow-read,bytes-per-sec=0", "at least 1"),
            ("action=corrupt,count=0", "count"),
            ("action=corrupt,op=patch", "unknown op"),
            ("action=corrupt,color=red", "unknown parameter"),
            ("action=corrupt,key=%zz", "percent"),
            ("action=corrupt,junk", "name=value"),
            ("action=restart,after-commit=yes", "true or false"),
        ] {
            let err = Fault::parse(spec).unwrap_err();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }
}

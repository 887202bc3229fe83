//! What an append stream reports to JS, as plain Rust: [`JsStreamState`] is the object
//! `state()`, `flush()`, `close()` and the progress events give (byte counts as numbers, the
//! CRC-64 as a decimal string, errors as `RequestError` fields), [`JsWriteReceipt`] what
//! `write()` resolves to.

use crate::js::request_error::RequestErrorFields;
use crate::stream::{StreamState, WriteReceipt};

/// `{ bucket, key, objectNumber, bytesWritten, bytesSpooled, bytesUploaded, position?, crc64,
/// online, lastError?, stopped?, closed, appends, fsyncs }`. Byte counts stay far below 2^53
/// (a spool is bounded), so they are exact as JS numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct JsStreamState {
    pub bucket: String,
    pub key: String,
    pub object_number: u32,
    pub bytes_written: f64,
    pub bytes_spooled: f64,
    pub bytes_uploaded: f64,
    /// The object's length as last verified; `None` until the object was first asked.
    pub position: Option<f64>,
    /// The object's CRC-64 at `position`, decimal.
    pub crc64: String,
    pub online: bool,
    pub last_error: Option<RequestErrorFields>,
    pub stopped: Option<RequestErrorFields>,
    pub closed: bool,
    pub appends: f64,
    pub fsyncs: f64,
}

impl From<&StreamState> for JsStreamState {
    fn from(s: &StreamState) -> Self {
        Self {
            bucket: s.bucket.clone(),
            key: s.key.clone(),
            object_number: s.object_number,
            bytes_written: s.written as f64,
            bytes_spooled: s.spooled as f64,
            bytes_uploaded: s.uploaded as f64,
            position: s.position.map(|p| p as f64),
            crc64: s.crc64.to_string(),
            online: s.online,
            last_error: s.last_error.as_ref().map(RequestErrorFields::from),
            stopped: s.stopped.as_ref().map(RequestErrorFields::from),
            closed: s.closed,
            appends: s.appends as f64,
            fsyncs: s.fsyncs as f64,
        }
    }
}

/// `{ offset, length }`: where a durable write landed (stream offsets, counted from the
/// spool's creation; it is in OSS once `bytesUploaded` reaches `offset + length`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsWriteReceipt {
    pub offset: f64,
    pub length: f64,
}

impl From<WriteReceipt> for JsWriteReceipt {
    fn from(r: WriteReceipt) -> Self {
        Self {
            offset: r.offset as f64,
            length: r.len as f64,
        }
    }
}

/// Which events a new state calls for, given the last one the listener saw: `progress` when
/// anything but the error fields changed, `error` when a new `lastError` or the stop reason
/// arrived (an error equal to the last one reported is not repeated).
pub fn events(previous: Option<&StreamState>, next: &StreamState) -> (bool, bool) {
    let Some(prev) = previous else {
        return (true, next.last_error.is_some() || next.stopped.is_some());
    };
    let progress = (
        prev.written,
        prev.uploaded,
        prev.position,
        prev.online,
        prev.closed,
    ) != (
        next.written,
        next.uploaded,
        next.position,
        next.online,
        next.closed,
    ) || prev.key != next.key;
    let error = (next.last_error.is_some() && prev.last_error != next.last_error)
        || (next.stopped.is_some() && prev.stopped != next.stopped);
    (progress, error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::StreamError;

    #[test]
    fn a_state_keeps_every_count_and_the_crc_as_decimal() {
        let s = StreamState {
            bucket: "b".into(),
            key: "k.1".into(),
            object_number: 1,
            written: 300,
            uploaded: 100,
            spooled: 200,
            position: Some(100),
            crc64: u64::MAX,
            online: true,
            appends: 4,
            fsyncs: 9,
            last_error: Some(StreamError::Retrying {
                message: "reset".into(),
            }),
            ..StreamState::default()
        };
        let js = JsStreamState::from(&s);
        assert_eq!(js.crc64, "18446744073709551615");
        assert_eq!(
            (js.bytes_written, js.bytes_uploaded, js.bytes_spooled),
            (300.0, 100.0, 200.0)
        );
        assert_eq!(js.position, Some(100.0));
        assert_eq!((js.appends, js.fsyncs, js.object_number), (4.0, 9.0, 1));
        assert_eq!(
            js.last_error.map(|e| e.code).as_deref(),
            Some("ClientStreamRetrying")
        );
        assert!(js.stopped.is_none() && !js.closed && js.online);
        assert_eq!(JsStreamState::from(&StreamState::default()).position, None);
    }

    #[test]
    fn events_fire_on_progress_and_on_new_errors_only() {
        let base = StreamState::default();
        assert_eq!(events(None, &base), (true, false));
        assert_eq!(events(Some(&base), &base), (false, false));
        let written = StreamState {
            written: 5,
            ..base.clone()
        };
        assert_eq!(events(Some(&base), &written), (true, false));
        let failing = StreamState {
            last_error: Some(StreamError::Retrying {
                message: "x".into(),
            }),
            ..base.clone()
        };
        assert_eq!(events(Some(&base), &failing), (false, true));
        assert_eq!(events(Some(&failing), &failing), (false, false));
        let stopped = StreamState {
            stopped: Some(StreamError::Closed),
            ..failing.clone()
        };
        assert_eq!(events(Some(&failing), &stopped), (false, true));
        let fsynced = StreamState {
            fsyncs: 3,
            ..base.clone()
        };
        assert_eq!(events(Some(&base), &fsynced), (false, false));
    }
}

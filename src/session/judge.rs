//! The session's one judgement: given what HEAD shows, was an append whose outcome is open
//! (its answer lost, or the call cancelled after its body went out) applied, not applied, or
//! did another writer change the object? Pure: the I/O around it lives in the session.
//!
//! Length alone cannot tell: another writer's append of the same length looks the same. So the
//! object's CRC-64 must be one the append would have produced (`candidates`: one per distinct
//! content sent, since a file changed between tries gives two) — or, for "not applied", the
//! CRC-64 it had before.

use std::collections::BTreeMap;

use crate::protocol::error::{Error, ServiceError};
use crate::protocol::response::HeadObjectOutput;
use crate::session::error::SessionError;

/// The object before the append in question, as the session knew it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Before {
    /// Its length: where the append starts.
    pub position: u64,
    /// Its CRC-64.
    pub crc64: u64,
    /// Whether it existed (a missing object is "not applied" only for a first append).
    pub exists: bool,
}

/// What HEAD says about an append whose outcome is open.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The object is exactly as the append would have left it.
    Applied(HeadObjectOutput),
    /// The object is as it was before.
    NotApplied,
    /// Neither: another writer's doing.
    Conflict(SessionError),
    /// HEAD could not tell (it failed, or its answer lacks the CRC-64).
    Unknown(Error),
}

/// Judges an append of `length` bytes after `before`, whose tries would have left the object
/// with one of the CRC-64s in `candidates`, by HEAD's answer (`None`: no object).
pub(crate) fn judge(
    before: Before,
    length: u64,
    candidates: &[u64],
    head: Option<HeadObjectOutput>,
) -> Verdict {
    let position = before.position;
    let expected_length = position + length;
    let conflict = |server_length: u64, server_crc64: Option<u64>, detail: Option<String>| {
        Verdict::Conflict(SessionError::Conflict {
            position,
            length,
            expected_length,
            server_length,
            expected_crc64: candidates.last().copied(),
            server_crc64,
            detail,
        })
    };
    let Some(head) = head else {
        return if position == 0 && !before.exists {
            Verdict::NotApplied
        } else {
            conflict(0, None, Some("the object no longer exists".into()))
        };
    };
    let server_length = head.next_append_position.unwrap_or(head.content_length);
    if !head.is_appendable() {
        let kind = head.object_type.as_deref().unwrap_or("unknown").to_owned();
        return conflict(
            server_length,
            head.hash_crc64ecma,
            Some(format!("the object is now of type {kind}")),
        );
    }
    let Some(server_crc) = head.hash_crc64ecma else {
        return Verdict::Unknown(missing_crc(&head));
    };
    if head.is_sealed() {
        return conflict(
            server_length,
            Some(server_crc),
            Some("the object has been sealed".into()),
        );
    }
    let unchanged = server_length == position && server_crc == before.crc64;
    if length == 0 && unchanged {
        // Nothing to apply; the object exists now either way.
        return Verdict::Applied(head);
    }
    if server_length == expected_length && candidates.contains(&server_crc) {
        return Verdict::Applied(head);
    }
    if unchanged {
        return Verdict::NotApplied;
    }
    let detail = (server_length == expected_length)
        .then(|| format!("same length, but CRC-64 {server_crc} is not that of the data sent"));
    conflict(server_length, Some(server_crc), detail)
}

/// Why a session cannot open on the object HEAD found: the error an append would get
/// (`ObjectNotAppendable`, `AppendSealedObjectNotAllowed`), or an answer without the CRC-64 the
/// session's chain starts from. `None`: the session can resume it.
pub(crate) fn refuse_to_resume(head: &HeadObjectOutput) -> Option<Error> {
    if !head.is_appendable() {
        return Some(refusal(
            head,
            409,
            "ObjectNotAppendable",
            "The object is not appendable.",
            "0026-00000017",
        ));
    }
    if head.is_sealed() {
        return Some(refusal(
            head,
            400,
            "AppendSealedObjectNotAllowed",
            "The object is sealed and takes no more appends.",
            "",
        ));
    }
    head.hash_crc64ecma.is_none().then(|| missing_crc(head))
}

fn missing_crc(head: &HeadObjectOutput) -> Error {
    Error::InvalidResponse {
        message: "HEAD of an appendable object lacks x-oss-hash-crc64ecma".into(),
        request_id: head.request_id.clone(),
    }
}

/// The error an append would get, for an object HEAD shows cannot take appends.
fn refusal(head: &HeadObjectOutput, status: u16, code: &str, message: &str, ec: &str) -> Error {
    let mut details = BTreeMap::new();
    if let Some(kind) = &head.object_type {
        details.insert("ObjectType".to_owned(), kind.clone());
    }
    if let Some(sealed) = &head.sealed_time {
        details.insert("SealedTime".to_owned(), sealed.clone());
    }
    Error::Service(Box::new(ServiceError {
        status,
        code: code.to_owned(),
        message: format!("{message} (found by HEAD before appending; nothing was sent)"),
        request_id: head.request_id.clone(),
        ec: ec.to_owned(),
        host_id: String::new(),
        recommend_doc: if ec.is_empty() {
            String::new()
        } else {
            format!("https://api.aliyun.com/troubleshoot?q={ec}")
        },
        headers: head.headers.clone(),
        details,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: Before = Before {
        position: 10,
        crc64: 111,
        exists: true,
    };

    fn head(length: u64, crc: Option<u64>, kind: &str, sealed: bool) -> Option<HeadObjectOutput> {
        Some(HeadObjectOutput {
            status: 200,
            headers: BTreeMap::new(),
            request_id: "R".into(),
            object_type: Some(kind.into()),
            content_length: length,
            next_append_position: Some(length),
            hash_crc64ecma: crc,
            etag: None,
            last_modified: None,
            sealed_time: sealed.then(|| "Mon, 01 Dec 2026 00:00:00 GMT".into()),
        })
    }

    fn conflict_detail(v: Verdict) -> Option<String> {
        match v {
            Verdict::Conflict(SessionError::Conflict { detail, .. }) => detail,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn length_and_a_candidate_crc_mean_applied() {
        let v = judge(
            BEFORE,
            5,
            &[222, 333],
            head(15, Some(333), "Appendable", false),
        );
        assert!(matches!(v, Verdict::Applied(_)), "{v:?}");
    }

    #[test]
    fn the_old_length_and_crc_mean_not_applied() {
        let v = judge(BEFORE, 5, &[222], head(10, Some(111), "Appendable", false));
        assert!(matches!(v, Verdict::NotApplied), "{v:?}");
    }

    #[test]
    fn the_right_length_with_another_crc_is_another_writer() {
        let v = judge(BEFORE, 5, &[222], head(15, Some(999), "Appendable", false));
        assert!(conflict_detail(v).unwrap().contains("same length"));
    }

    #[test]
    fn the_old_length_with_another_crc_is_another_writer() {
        let v = judge(BEFORE, 5, &[222], head(10, Some(999), "Appendable", false));
        assert_eq!(conflict_detail(v), None);
    }

    #[test]
    fn a_missing_object_is_not_applied_only_for_a_first_append() {
        let first = Before {
            position: 0,
            crc64: 0,
            exists: false,
        };
        assert!(matches!(judge(first, 3, &[1], None), Verdict::NotApplied));
        let detail = conflict_detail(judge(BEFORE, 3, &[1], None));
        assert_eq!(detail.as_deref(), Some("the object no longer exists"));
    }

    #[test]
    fn sealed_or_retyped_objects_are_conflicts_and_no_crc_is_unknown() {
        let sealed = judge(BEFORE, 5, &[222], head(15, Some(222), "Appendable", true));
        assert_eq!(
            conflict_detail(sealed).as_deref(),
            Some("the object has been sealed")
        );
        let normal = judge(BEFORE, 5, &[222], head(15, Some(222), "Normal", false));
        assert!(conflict_detail(normal).unwrap().contains("type Normal"));
        let no_crc = judge(BEFORE, 5, &[222], head(15, None, "Appendable", false));
        assert!(matches!(no_crc, Verdict::Unknown(_)), "{no_crc:?}");
    }

    #[test]
    fn an_empty_append_on_an_unchanged_object_is_applied() {
        let v = judge(BEFORE, 0, &[111], head(10, Some(111), "Appendable", false));
        assert!(matches!(v, Verdict::Applied(_)), "{v:?}");
    }

    #[test]
    fn resuming_is_refused_as_an_append_would_be() {
        let normal = refuse_to_resume(&head(4, Some(1), "Normal", false).unwrap());
        assert_eq!(
            normal.unwrap().as_service().unwrap().code,
            "ObjectNotAppendable"
        );
        let sealed = refuse_to_resume(&head(4, Some(1), "Appendable", true).unwrap());
        assert_eq!(
            sealed.unwrap().as_service().unwrap().code,
            "AppendSealedObjectNotAllowed"
        );
        let no_crc = refuse_to_resume(&head(4, None, "Appendable", false).unwrap());
        assert!(matches!(no_crc, Some(Error::InvalidResponse { .. })));
        assert!(refuse_to_resume(&head(4, Some(1), "Appendable", false).unwrap()).is_none());
    }
}

//! Classifying a [`TransportFailure`]: what the machine does about it.

use super::{Operation, SyncError, TransportFailure};

/// The machine's reaction to a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Unreachable or failing server (network, timeout, undecodable 200, 5xx, 408, 429): go
    /// offline and retry with backoff.
    Offline(SyncError),
    /// 401 / 403: refresh credentials once, then retry; if that fails too, surface the error and
    /// wait a long backoff.
    Auth {
        /// 401 or 403.
        status: u16,
        /// The error body's text.
        message: String,
    },
    /// 400 / 413 on a push: something in the batch is malformed or too large; bisect.
    Bisect {
        /// 400 or 413.
        status: u16,
        /// The error body's text.
        message: String,
    },
    /// 410 on a pull: the cursor is older than the server's log; take a snapshot. Carries the
    /// refusal, for callers that cannot recover this way.
    CursorTooOld(SyncError),
    /// Any other refusal: surface it and wait for the next trigger.
    Refused(SyncError),
}

/// Whether the request that failed so may still reach the server and run there: the failures
/// retried as offline (network, timeout, undecodable answer, 5xx, 408, 429), less a request
/// that was never sent. A refusal the server itself answered ran nothing.
pub(crate) fn may_still_run(failure: &TransportFailure) -> bool {
    !matches!(failure, TransportFailure::Unreachable(_))
        && matches!(
            classify(Operation::Push, failure.clone()),
            Disposition::Offline(_)
        )
}

/// What to do about `failure` of `operation`.
pub(crate) fn classify(operation: Operation, failure: TransportFailure) -> Disposition {
    let (status, code, message) = match failure {
        TransportFailure::Unreachable(message) | TransportFailure::Network(message) => {
            return Disposition::Offline(SyncError::Network(message))
        }
        TransportFailure::Timeout => return Disposition::Offline(SyncError::Timeout),
        TransportFailure::Decode(message) => {
            return Disposition::Offline(SyncError::Decode(message))
        }
        TransportFailure::Http {
            status,
            code,
            message,
        } => (status, code, message),
    };
    match (status, operation) {
        (500..=599 | 408 | 429, _) => {
            Disposition::Offline(SyncError::Unavailable { status, message })
        }
        (401 | 403, _) => Disposition::Auth { status, message },
        (400 | 413, Operation::Push) => Disposition::Bisect { status, message },
        (410, Operation::Pull) => Disposition::CursorTooOld(SyncError::Refused {
            status,
            code,
            message,
        }),
        _ => Disposition::Refused(SyncError::Refused {
            status,
            code,
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> TransportFailure {
        TransportFailure::Http {
            status,
            code: Some("c".into()),
            message: "m".into(),
        }
    }

    #[test]
    fn classifies_each_status_by_operation() {
        use Disposition::*;
        let offline = |s| {
            Offline(SyncError::Unavailable {
                status: s,
                message: "m".into(),
            })
        };
        let refused = |s| {
            Refused(SyncError::Refused {
                status: s,
                code: Some("c".into()),
                message: "m".into(),
            })
        };
        let cases = [
            (500, Operation::Push, offline(500)),
            (503, Operation::Pull, offline(503)),
            (429, Operation::Snapshot, offline(429)),
            (408, Operation::Push, offline(408)),
            (
                401,
                Operation::Pull,
                Auth {
                    status: 401,
                    message: "m".into(),
                },
            ),
            (
                403,
                Operation::Push,
                Auth {
                    status: 403,
                    message: "m".into(),
                },
            ),
            (
                400,
                Operation::Push,
                Bisect {
                    status: 400,
                    message: "m".into(),
                },
            ),
            (
                413,
                Operation::Push,
                Bisect {
                    status: 413,
                    message: "m".into(),
                },
            ),
            (400, Operation::Pull, refused(400)),
            (
                410,
                Operation::Pull,
                CursorTooOld(SyncError::Refused {
                    status: 410,
                    code: Some("c".into()),
                    message: "m".into(),
                }),
            ),
            (410, Operation::Snapshot, refused(410)),
            (404, Operation::Push, refused(404)),
            (302, Operation::Pull, refused(302)),
        ];
        for (status, operation, expected) in cases {
            assert_eq!(
                classify(operation, http(status)),
                expected,
                "{status} {operation:?}"
            );
        }
    }

    #[test]
    fn only_unsent_requests_and_refusals_are_known_not_to_run() {
        assert!(!may_still_run(&TransportFailure::Unreachable("dns".into())));
        assert!(!may_still_run(&http(400)));
        assert!(!may_still_run(&http(401)));
        for failure in [
            TransportFailure::Network("reset".into()),
            TransportFailure::Timeout,
            TransportFailure::Decode("<html>".into()),
            http(502),
            http(408),
            http(429),
        ] {
            assert!(may_still_run(&failure), "{failure:?}");
        }
    }

    #[test]
    fn treats_transport_errors_as_offline() {
        for failure in [
            TransportFailure::Unreachable("refused".into()),
            TransportFailure::Network("reset".into()),
            TransportFailure::Timeout,
            TransportFailure::Decode("<html>".into()),
        ] {
            assert!(
                matches!(classify(Operation::Pull, failure), Disposition::Offline(e) if e.is_offline())
            );
        }
    }
}

//! [`QueryError`]: why a query spec was refused.

/// A query that cannot run, refused before it touches any data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A field path is empty or has an empty segment.
    #[error("invalid field path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A JSON query spec is not JSON, has an unknown operator or key, an operand of the wrong
    /// kind, or a negative or fractional limit or offset.
    #[error("invalid query spec: {0}")]
    InvalidSpec(String),
}

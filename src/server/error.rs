//! Errors of the reference server.

/// What can fail when starting or administering the reference server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding the listener or another socket operation failed.
    #[error("server i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The SQLite storage failed to open, load or write.
    #[error("server storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// An option is unusable (the text says which and why).
    #[error("invalid server option: {0}")]
    InvalidOption(String),
}

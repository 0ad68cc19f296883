//! What bucket operations answer, shared by every backend: the guest-visible error, and the
//! counter arithmetic of `increment` (decimal text, as Redis keeps counters).

use std::fmt;

/// What a bucket operation can fail with, as the guest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    NoSuchStore,
    AccessDenied,
    Other(String),
}

impl KvError {
    pub(super) fn other(message: impl fmt::Display) -> Self {
        Self::Other(message.to_string())
    }
}

/// The answer of a bucket operation.
pub type KvResult<T> = Result<T, KvError>;

/// The value of a counter after adding `delta` to `current` (decimal text, or none).
pub(super) fn incremented(key: &str, current: Option<&[u8]>, delta: u64) -> KvResult<u64> {
    let current = match current {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                KvError::other(format!(
                    "cannot increment `{key}`: its value is not a decimal number"
                ))
            })?,
    };
    current.checked_add(delta).ok_or_else(|| {
        KvError::other(format!(
            "cannot increment `{key}`: the counter would overflow"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_decimal_text() {
        assert_eq!(incremented("k", None, 3), Ok(3));
        assert_eq!(incremented("k", Some(b"41"), 1), Ok(42));
        assert!(incremented("k", Some(b"forty"), 1).is_err());
        assert!(incremented("k", Some(u64::MAX.to_string().as_bytes()), 1).is_err());
    }
}

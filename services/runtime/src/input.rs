//! Reading requests at the edge: JSON bodies and bounded text, with messages a person can act on.

use hoinghi_shared::ApiError;
use serde::de::DeserializeOwned;

/// Parses a JSON request body into `T`.
///
/// # Errors
/// `invalid` naming what is wrong: empty body, not UTF-8, not JSON, or a field missing, unknown or
/// of the wrong type (serde's message names the field and position).
pub fn parse_body<T: DeserializeOwned>(payload: &[u8], expected: &str) -> Result<T, ApiError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(format!("empty request body: send a JSON object {expected}")));
    }
    if std::str::from_utf8(payload).is_err() {
        return Err(ApiError::invalid(format!("request body is not UTF-8: send a JSON object {expected}")));
    }
    serde_json::from_slice(payload)
        .map_err(|e| ApiError::invalid(format!("invalid request body: {e}; expected a JSON object {expected}")))
}

/// Checks free text: trimmed, at most `max` characters, no control characters but newline and tab;
/// `required` text must not be empty.
///
/// # Errors
/// `invalid` naming the field.
pub fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err(ApiError::invalid(format!("{field} must not be empty")));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(ApiError::invalid(format!("{field} is {chars} characters long; the limit is {max}")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::invalid(format!("{field} contains control characters")));
    }
    Ok(trimmed.to_owned())
}

/// The slice of `len` entries a page query asks for.
///
/// # Errors
/// `invalid` for a limit outside 1 to [`MAX_PAGE`](hoinghi_shared::api::MAX_PAGE).
pub fn page(query: &hoinghi_shared::api::PageQuery, len: usize) -> Result<std::ops::Range<usize>, ApiError> {
    let max = hoinghi_shared::api::MAX_PAGE;
    if query.limit == 0 || query.limit > max {
        return Err(ApiError::invalid(format!("limit must be between 1 and {max}")));
    }
    let start = query.offset.min(len);
    Ok(start..start.saturating_add(query.limit).min(len))
}

/// Checks a list's length.
///
/// # Errors
/// `invalid` naming the field.
pub fn list_len<T>(field: &str, list: &[T], min: usize, max: usize) -> Result<(), ApiError> {
    if list.len() < min {
        return Err(ApiError::invalid(format!(
            "{field} needs at least {min} entr{}",
            if min == 1 { "y" } else { "ies" }
        )));
    }
    if list.len() > max {
        return Err(ApiError::invalid(format!("{field} has {} entries; the limit is {max}", list.len())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoinghi_shared::ErrorCode;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        n: u32,
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        for (payload, needle) in [
            (&b""[..], "empty"),
            (&b"\xff\xfe"[..], "UTF-8"),
            (&b"{\"n\": -1}"[..], "invalid value"),
            (&b"{}"[..], "missing field `n`"),
            (&b"[1,2"[..], "invalid request body"),
        ] {
            let err = parse_body::<Body>(payload, "{n}").unwrap_err();
            assert_eq!(err.code, ErrorCode::Invalid);
            assert!(err.message.contains(needle), "{} lacks {needle}", err.message);
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("title", "  Hội nghị  ", 10, true).unwrap(), "Hội nghị");
        assert!(text("title", "   ", 10, true).is_err());
        assert!(text("title", "xxxxxxxxxxx", 10, true).is_err());
        assert!(text("title", "a\u{0}b", 10, true).is_err());
        assert_eq!(text("note", "", 10, false).unwrap(), "");
    }
}

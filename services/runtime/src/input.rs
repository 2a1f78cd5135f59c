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

/// Unicode Normalization Form C of `value`: the one form every text is kept and compared in.
///
/// Vietnamese is typed and pasted in two forms: precomposed ("ư" + "ơ" as single code points, NFC,
/// what most keyboards send) and decomposed (base letter + combining marks, NFD, as some keyboards,
/// macOS file names and PDFs produce it). Both look the same, but compared byte for byte a chair's
/// name in NFD would not be the chair's name in NFC. So every text is normalised at the edge.
pub fn nfc(value: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    match is_nfc_quick(value.chars()) {
        IsNormalized::Yes => value.to_owned(),
        _ => value.nfc().collect(),
    }
}

/// Whether two persons' names are the same person's: compared in NFC, ignoring case and the space
/// around them.
pub fn same_person(a: &str, b: &str) -> bool {
    let key = |s: &str| nfc(&nfc(s.trim()).to_lowercase());
    key(a) == key(b)
}

/// Checks free text: normalised to NFC ([`nfc`]), trimmed, at most `max` characters (counted in
/// NFC), no control characters but newline and tab; `required` text must not be empty.
///
/// # Errors
/// `invalid` naming the field.
pub fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String, ApiError> {
    let normalised = nfc(value);
    let trimmed = normalised.trim();
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

    #[test]
    fn text_is_normalised_to_nfc_before_it_is_checked() {
        // Given a name typed in decomposed form (NFD): 3 more code points than its NFC form
        let nfd = "Phu\u{31b}o\u{31b}ng Thi\u{323} Thanh";
        let nfc_form = "Phương Thị Thanh";
        assert_ne!(nfd, nfc_form);
        // When it is read at the edge, then it is the NFC form, and its length is counted in NFC
        assert_eq!(text("name", nfd, 16, true).unwrap(), nfc_form);
        assert_eq!(nfc_form.chars().count(), 16);
        // And a control character is still refused once normalised
        let err = text("name", "Phu\u{31b}o\u{31b}ng\u{7}", 100, true).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::Invalid, "name contains control characters"));
    }

    #[test]
    fn persons_are_compared_in_nfc_ignoring_case_and_surrounding_space() {
        assert!(same_person(" phu\u{31b}o\u{31b}ng thi\u{323} thanh ", "Phương Thị Thanh"));
        assert!(!same_person("Phạm Duy Hưng", "Phương Thị Thanh"));
    }
}

//! OpenAPI schemas (`utoipa`) of the identifiers, which serde reads and writes as strings through
//! their `String` forms (`try_from`, `into`), so the derive cannot see their shape. Only with the
//! `openapi` feature; the request and reply types derive `utoipa::ToSchema` where they are defined.
//!
//! Each schema says what the parser accepts ([`crate::ids`]): a document generated from these lets a
//! schema-driven fuzzer produce ids the services take, and a reader see the rule.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::ids::{ConferenceId, PersonId, SiteId, TaskId};

/// A string schema with a description, and a pattern or a format.
fn string(description: &str, pattern: Option<&str>, format: Option<SchemaFormat>, example: &str) -> RefOr<Schema> {
    let mut builder = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([serde_json::Value::String(example.to_owned())]);
    if let Some(pattern) = pattern {
        builder = builder.pattern(Some(pattern));
    }
    if let Some(format) = format {
        builder = builder.format(Some(format));
    }
    RefOr::T(Schema::Object(builder.build()))
}

/// Declares the `PartialSchema` and `ToSchema` of an id type.
macro_rules! id_schema {
    ($ty:ty, $name:literal, $schema:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

id_schema!(
    ConferenceId,
    "ConferenceId",
    string(
        "A conference id: a UUID v7, hyphenated, lowercase.",
        Some("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
        Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid)),
        "0190e1a2-0000-7000-8000-000000000001",
    )
);
id_schema!(
    SiteId,
    "SiteId",
    string("A site id: a slug of 1 to 64 characters from a-z, 0-9 and '-'.", Some("^[a-z0-9-]{1,64}$"), None, "ba-be")
);
id_schema!(
    PersonId,
    "PersonId",
    string(
        "A person id: a slug of 1 to 64 characters from a-z, 0-9 and '-'.",
        Some("^[a-z0-9-]{1,64}$"),
        None,
        "phuong-thi-thanh"
    )
);
id_schema!(
    TaskId,
    "TaskId",
    string(
        "A task of the published minutes: `<item>-<index>`, both 0-based.",
        Some("^[0-9]{1,9}-[0-9]{1,9}$"),
        None,
        "2-0"
    )
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_schemas_are_named_strings() {
        assert_eq!(SiteId::name(), "SiteId");
        let json = serde_json::to_value(ConferenceId::schema()).unwrap_or_default();
        assert_eq!(json["type"], "string");
        assert_eq!(json["format"], "uuid");
    }
}

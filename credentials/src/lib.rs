//! A hoinghi deployment's NATS credentials, apart from any client or service.
//!
//! - [`deployment`]: the deployment directory (`hoinghi admin credentials|add-site|revoke-site|rotate`):
//!   one nkey user per identity, the `nats-server` configuration that grants each identity the
//!   permissions of its role, and the credentials files.
//! - [`file`](mod@file): reading a credentials file (a seed file as written here, or a user JWT + seed file),
//!   and the identity and inbox prefix (`_INBOX.<identity>`) a connection takes from it; used by the
//!   services (`hoinghi-runtime`), the client (`hoinghi-client`) and the test harness.
//!
//! Identities: `secretariat`, `minute-taker`, `chair`, `site-<id>` per site, and two per service:
//! `service-<name>` (writes its event log through JetStream, serves no request) and
//! `service-<name>-api` (answers requests and may publish only to inboxes, so no reply can land in
//! a stream). The roles, their actors and permissions are part of the contract:
//! [`hoinghi_shared::roles`].

#![forbid(unsafe_code)]

pub mod deployment;
pub mod file;

pub use deployment::{
    add_site, creds_path, creds_text, generate, identities_for, permissions, revoke_site, rotate, Deployment,
    ServerSettings, Tls, IDENTITIES, SERVER_CONF, SERVER_JSON,
};
pub use file::{identity_of, inbox_prefix, parse_credentials, read_credentials, Credentials};
pub use hoinghi_shared::roles::{service_api_identity, service_identity, site_identity, Permissions, Role};

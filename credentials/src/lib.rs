//! A hoinghi deployment's NATS credentials, apart from any client or service: NATS decentralized
//! JWT authentication.
//!
//! - [`jwt`]: operator, account and user JWTs (NATS JWT v2 claims) signed with nkeys, and standard
//!   credentials files;
//! - [`deployment`]: the deployment directory (`hoinghi admin init|add-site|add-person|revoke|rotate|list`):
//!   the operator, the `SYS` and `HOINGHI` accounts, the server configuration with the full resolver,
//!   one user JWT and `.creds` file per identity, the index of identities and revocations;
//! - [`push`]: sending an account JWT (a revocation) to the running servers over the system account;
//! - [`file`](mod@file): reading a credentials file, and the identity (the user JWT's `name`) and
//!   inbox prefix (`_INBOX.<identity>`) a connection takes from it; used by the services
//!   (`hoinghi-runtime`), the client (`hoinghi-client`) and the test harness.
//!
//! The identities, their actors and permissions are part of the contract: [`hoinghi_shared::roles`].

#![forbid(unsafe_code)]

pub mod deployment;
pub mod file;
pub mod jwt;
pub mod push;

pub use deployment::{
    base_identities, creds_path, permissions, Deployment, Revoked, ServerSettings, Tls, AUTH_CONF, IDENTITIES,
    SERVER_CONF, SERVER_JSON, SYSTEM_CREDS,
};
pub use file::{identity_of, inbox_prefix, parse_credentials, read_credentials, Credentials};
pub use hoinghi_shared::roles::{service_api_identity, service_identity, site_identity, Permissions, Role};

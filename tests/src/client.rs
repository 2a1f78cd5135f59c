//! The typed client of the public API and the polling helper: the one client crate,
//! [`hoinghi_client`], where the suite has always found them.

pub use hoinghi_client::{eventually, idempotency_headers, Api, RawReply, REQUEST_TIMEOUT};

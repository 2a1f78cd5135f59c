//! Header names that carry meaning in the contract.

/// Optional request header: a client-chosen key (up to 128 printable ASCII characters) that makes a
/// retried command safe. The same key on the same subject gets the same effect once; the event the
/// command writes carries `<subject>|<key>` as its JetStream `Nats-Msg-Id` and as its `command_id`.
pub const IDEMPOTENCY_KEY: &str = "Hoinghi-Idempotency-Key";

/// W3C trace context, carried on requests, on events in JetStream and on replies, so one command can
/// be followed through every service it touches.
pub const TRACEPARENT: &str = "traceparent";

/// Set by the micro-service framework on error replies: the numeric status (400, 403, 404, 409, 503).
pub const SERVICE_ERROR_CODE: &str = "Nats-Service-Error-Code";

/// Set by the micro-service framework on error replies: the message.
pub const SERVICE_ERROR: &str = "Nats-Service-Error";

/// On a parked (dead-letter) event: why it could not be processed.
pub const DEAD_REASON: &str = "Hoinghi-Dead-Reason";

/// On a parked event: the stream and sequence it came from (`HOINGHI_SCHEDULING:42`).
pub const DEAD_SOURCE: &str = "Hoinghi-Dead-Source";

/// On a parked event: the subject it was published on.
pub const DEAD_SUBJECT: &str = "Hoinghi-Dead-Subject";

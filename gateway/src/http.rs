//! The HTTP server: the state every request shares ([`App`]), the router (the API's routes from
//! [`crate::routes::table`], `/openapi.json`, `/healthz`, the live board stream and the pages), and
//! the one handler every API route runs ([`call`]).
//!
//! A call: the caller from its token (401), its rate limit (429), the subject from the path (400
//! for an id that is not one), the body read up to the subject's limit from
//! `hoinghi_shared::sizes::max_request_bytes` (413, before anything reaches NATS), the headers
//! passed on (`Idempotency-Key` or `Hoinghi-Idempotency-Key` as `Hoinghi-Idempotency-Key`,
//! `traceparent` as is, a new one otherwise), the request sent on the caller's own connection, and
//! the reply returned as it came: its status from `Nats-Service-Error-Code`, its body unchanged. A
//! publish the NATS server refuses the identity is `forbidden` (403).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap as NatsHeaders;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hoinghi_shared::headers::{IDEMPOTENCY_KEY, TRACEPARENT};
use hoinghi_shared::{trace, ApiError, ErrorCode};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{Caller, Gate};
use crate::config::Settings;
use crate::error::HttpError;
use crate::pool::Pool;
use crate::routes::{self, Endpoint};
use crate::tokens::TokenStore;

/// The HTTP name of the idempotency key (also accepted: the NATS header's own name).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// What every request shares. Nothing here is state of the conferences: the gateway holds none.
#[derive(Debug)]
pub struct App {
    /// The settings.
    pub settings: Settings,
    /// Tokens and rate limits.
    pub gate: Gate,
    /// The identities' connections.
    pub pool: Pool,
    /// The OpenAPI document, serialised once.
    pub openapi: String,
    /// Live streams open per identity.
    pub streams: std::sync::Mutex<HashMap<String, usize>>,
    /// Cancelled when the gateway stops: the live streams end, so the graceful shutdown does not
    /// wait for browsers that never hang up.
    pub stopping: tokio_util::sync::CancellationToken,
    /// The published minutes assembled at once for `/bien-ban/<id>` (each holds a whole document
    /// in memory while it is read and sent): [`crate::pages::MINUTES_AT_ONCE`] permits.
    pub minutes_pages: tokio::sync::Semaphore,
}

impl App {
    /// The state for `settings`.
    ///
    /// # Errors
    /// The tokens file cannot be read.
    pub fn new(settings: Settings) -> anyhow::Result<Arc<Self>> {
        let tokens = TokenStore::open(&settings.dir())?;
        let gate = Gate::new(tokens, settings.limits.requests_per_second, settings.limits.burst);
        let pool = Pool::new(
            settings.client(),
            settings.dir(),
            settings.limits.max_connections,
            Duration::from_secs(settings.limits.idle_close_s),
        );
        let openapi = serde_json::to_string_pretty(&routes::openapi())?;
        Ok(Arc::new(Self {
            settings,
            gate,
            pool,
            openapi,
            streams: std::sync::Mutex::new(HashMap::new()),
            stopping: tokio_util::sync::CancellationToken::new(),
            minutes_pages: tokio::sync::Semaphore::new(crate::pages::MINUTES_AT_ONCE),
        }))
    }

    /// Closes idle connections and forgets full buckets, every few seconds, for ever.
    pub async fn sweep_forever(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let closed = self.pool.sweep();
            if closed > 0 {
                tracing::debug!(closed, connected = self.pool.len(), "closed idle connections");
            }
            self.gate.sweep();
        }
    }

    /// Sends `body` on `subject` as `caller`, with the request's idempotency key and trace context;
    /// the reply's status and body as they came.
    ///
    /// # Errors
    /// The request could not be made (NATS unreachable, refused publish, timeout).
    pub async fn forward(
        &self,
        caller: &Caller,
        subject: &str,
        body: bytes::Bytes,
        headers: &HeaderMap,
    ) -> Result<(StatusCode, bytes::Bytes), HttpError> {
        let mut nats = NatsHeaders::new();
        let key = headers.get(IDEMPOTENCY_HEADER).or_else(|| headers.get(IDEMPOTENCY_KEY));
        if let Some(key) = key {
            let key =
                key.to_str().map_err(|_| ApiError::invalid(format!("{IDEMPOTENCY_HEADER} must be printable ASCII")))?;
            nats.insert(IDEMPOTENCY_KEY, key);
        }
        let traceparent = headers
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .filter(|v| hoinghi_runtime::telemetry::TraceContext::parse(v).is_some())
            .map(str::to_owned)
            .unwrap_or_else(|| trace::traceparent(&trace::new_trace_id(), &trace::new_span_id()));
        nats.insert(TRACEPARENT, traceparent.as_str());
        let api = self.pool.get(&caller.identity).await?;
        let reply = api.raw(subject, body, Some(nats)).await?;
        if !reply.is_error() {
            return Ok((StatusCode::OK, reply.payload));
        }
        match reply.api_error() {
            // A known code keeps its status and the body exactly as the service wrote it.
            Some(e) if serde_json::from_slice::<hoinghi_shared::error::ErrorBody>(&reply.payload).is_ok() => {
                Ok((crate::error::status_of(e.code), reply.payload))
            }
            Some(e) => Err(e.into()),
            None => Err(ApiError::unavailable("an error reply without a status").into()),
        }
    }
}

/// The router of the whole gateway.
pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new();
    for endpoint in routes::table() {
        router = router.route(
            &endpoint.scope.path(),
            post(
                move |state: State<Arc<App>>,
                      path: Result<Path<HashMap<String, String>>, _>,
                      headers: HeaderMap,
                      body: Body| { call(state, endpoint, path, headers, body) },
            ),
        );
    }
    router
        .route("/openapi.json", get(openapi))
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/attendance/board/{conference_id}/events", get(crate::sse::board_events))
        .merge(crate::pages::router())
        .fallback(|| async { HttpError::from(ApiError::not_found("no such route: see /openapi.json")) })
        .layer(cors(&app.settings))
        .with_state(app)
}

/// CORS: closed unless origins are listed (`http.cors_allow_origins`).
fn cors(settings: &Settings) -> CorsLayer {
    let origins: Vec<HeaderValue> =
        settings.http.cors_origins().iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if origins.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("traceparent"),
            header::HeaderName::from_static("last-event-id"),
        ])
        .max_age(Duration::from_secs(600))
}

async fn openapi(State(app): State<Arc<App>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], app.openapi.clone()).into_response()
}

/// Reads a body up to `limit` bytes.
///
/// # Errors
/// `too_large` over it, `invalid` for a body that could not be read.
pub async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, HttpError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        // axum reports the limit as a `LengthLimitError` ("length limit exceeded") inside its error.
        let too_large = format!("{e:?} {e}").to_ascii_lowercase().contains("length limit");
        if too_large {
            HttpError::from(ApiError::too_large(format!("the body is larger than this request takes ({limit} bytes)")))
        } else {
            HttpError::from(ApiError::invalid(format!("cannot read the body: {e}")))
        }
    })
}

/// One API call.
async fn call(
    State(app): State<Arc<App>>,
    endpoint: &'static Endpoint,
    path: Result<Path<HashMap<String, String>>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match call_inner(&app, endpoint, path, &headers, body).await {
        Ok((status, payload)) => (status, [(header::CONTENT_TYPE, "application/json")], payload).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn call_inner(
    app: &App,
    endpoint: &Endpoint,
    path: Result<Path<HashMap<String, String>>, axum::extract::rejection::PathRejection>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(StatusCode, bytes::Bytes), HttpError> {
    let caller = app.gate.admit(headers)?;
    let Path(params) = path.map_err(|e| ApiError::invalid(format!("path: {e}")))?;
    let parameter = endpoint.scope.parameter().and_then(|name| params.get(name)).map(String::as_str);
    let subject = endpoint.scope.subject(parameter)?;
    let body = read_body(body, hoinghi_shared::sizes::max_request_bytes(&subject)).await?;
    let started = std::time::Instant::now();
    let outcome = app.forward(&caller, &subject, body, headers).await;
    let status = match &outcome {
        Ok((status, _)) => status.as_u16(),
        Err(e) => e.status.as_u16(),
    };
    tracing::info!(identity = %caller.identity, subject, status, ms = started.elapsed().as_millis() as u64, "call");
    outcome
}

/// `unavailable` for an error the gateway did not expect (never a 500: the contract has none).
pub fn unexpected(e: impl std::fmt::Display) -> HttpError {
    HttpError::from(ApiError::new(ErrorCode::Unavailable, e.to_string()))
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    fn app(dir: &std::path::Path) -> Arc<App> {
        let env = [
            ("HOINGHI__DEPLOYMENT__DIR".to_owned(), dir.display().to_string()),
            // Nothing listens here: a request that got as far as NATS would fail with 503.
            ("HOINGHI__NATS__URL".to_owned(), "nats://127.0.0.1:1".to_owned()),
        ];
        App::new(Settings::load_from(env).unwrap()).unwrap()
    }

    async fn send(router: Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let response = router.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_router_serves_the_document_and_refuses_what_it_must_before_nats() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(hoinghi_credentials::creds_path(dir.path(), "site-ba-be"), "x").unwrap();
        let (token, _) = crate::tokens::issue(dir.path(), "site-ba-be").unwrap();
        let router = router(app(dir.path()));

        let (status, _, body) = send(router.clone(), Request::get("/openapi.json").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("\"openapi\": \"3.1.0\""));

        let confirm = |token: Option<&str>, path: &str, body: Body| {
            let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
            if let Some(token) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            request.body(body).unwrap()
        };
        let (status, headers, body) =
            send(router.clone(), confirm(None, "/v1/attendance/sites/ba-be/confirm", Body::from("{}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        assert!(body.contains("\"unauthorized\""), "{body}");

        let (status, _, body) =
            send(router.clone(), confirm(Some(&token), "/v1/attendance/sites/Ba.Be/confirm", Body::from("{}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        let huge = Body::from(vec![b' '; hoinghi_shared::sizes::CONFIRM_REQUEST_BYTES + 1]);
        let (status, _, body) =
            send(router.clone(), confirm(Some(&token), "/v1/attendance/sites/ba-be/confirm", huge)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert!(body.contains("\"too_large\""), "{body}");

        // Within its limit the body goes on to NATS, unreachable here: 503, never a 500.
        let (status, _, body) =
            send(router.clone(), confirm(Some(&token), "/v1/attendance/sites/ba-be/confirm", Body::from("{}"))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("\"unavailable\""), "{body}");

        let (status, _, body) = send(router.clone(), Request::get("/no/such/page").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("\"not_found\""), "{body}");

        // The pages: the login form is there, the others send a visitor without a token to it.
        let (status, headers, body) =
            send(router.clone(), Request::get("/dang-nhap").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<label for=\"token\">"), "{body}");
        assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'self'"));
        let (status, headers, _) = send(router, Request::get("/diem-cau").body(Body::empty()).unwrap()).await;
        assert!(status.is_redirection());
        assert_eq!(headers[header::LOCATION], "/dang-nhap");
    }
}

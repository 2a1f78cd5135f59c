//! Who calls: the bearer token (`Authorization: Bearer hn_…`) or the web pages' session cookie
//! (the same token, set by the login form: `HttpOnly`, `SameSite=Strict`, never in a URL), mapped to
//! its identity by the deployment's [`TokenStore`], and that identity's rate limit.
//!
//! The rate limit is a GCRA bucket per identity from the `governor` crate (the maintained
//! implementation tower-governor is built on). It is applied here, after the token is resolved,
//! because its key is the identity: tower-governor's key extractors run on the raw request (the
//! peer address, a header), so a district's clerks behind one NAT would share a bucket while one
//! identity could spread its requests over many addresses.

use std::num::NonZeroU32;

use axum::http::{header, HeaderMap};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hoinghi_shared::{PersonId, Role, SiteId};

use crate::error::HttpError;
use crate::tokens::TokenStore;

/// The name of the pages' session cookie.
pub const COOKIE: &str = "hoinghi_token";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The identity it acts as on NATS.
    pub identity: String,
}

impl Caller {
    /// The caller's role, if the identity names one.
    pub fn role(&self) -> Option<Role> {
        Role::from_identity(&self.identity)
    }

    /// The site, for a district point.
    pub fn site(&self) -> Option<SiteId> {
        match self.role()? {
            Role::Site(site) => Some(site),
            _ => None,
        }
    }

    /// The person, for a chair or minute-taker.
    pub fn person(&self) -> Option<PersonId> {
        match self.role()? {
            Role::Person(person) => Some(person),
            _ => None,
        }
    }
}

/// The token a request carries: the `Authorization: Bearer` header, else the session cookie.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// A request that may carry the session cookie must come from this origin: a browser sends
/// `Origin` with every cross-origin POST, and another port of the same host is the same *site* to
/// `SameSite=Strict`, so the cookie alone would not stop it.
///
/// # Errors
/// 403 when `Origin` names another origin than `Host`.
pub fn same_origin(headers: &HeaderMap) -> Result<(), HttpError> {
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default();
    let host = host.to_str().unwrap_or_default();
    if origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host) {
        Ok(())
    } else {
        Err(hoinghi_shared::ApiError::forbidden("a page of another origin may not act with this session").into())
    }
}

/// Tokens and rate limits.
#[derive(Debug)]
pub struct Gate {
    tokens: TokenStore,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Gate {
    /// A gate over a token store, allowing each identity `per_second` requests with `burst` above.
    pub fn new(tokens: TokenStore, per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
        Self { tokens, limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)) }
    }

    /// The caller of a request, without counting it against the rate limit (the pages' own reads).
    ///
    /// # Errors
    /// 401: no token, or one the deployment does not know.
    pub fn identify(&self, headers: &HeaderMap) -> Result<Caller, HttpError> {
        if headers.get(header::AUTHORIZATION).is_none() {
            // The session cookie (or nothing): only from this origin.
            same_origin(headers)?;
        }
        let token = token_of(headers).ok_or_else(|| {
            HttpError::unauthorized(
                "no token: send `Authorization: Bearer <token>` (hoinghi admin token issue <identity>)",
            )
        })?;
        let identity =
            self.tokens.identity(&token).ok_or_else(|| HttpError::unauthorized("unknown or revoked token"))?;
        Ok(Caller { identity })
    }

    /// The caller of a request, counted against its identity's rate limit.
    ///
    /// # Errors
    /// 401 as [`Self::identify`]; 429 over the limit.
    pub fn admit(&self, headers: &HeaderMap) -> Result<Caller, HttpError> {
        let caller = self.identify(headers)?;
        self.limit(&caller)?;
        Ok(caller)
    }

    /// Counts one request of `caller`.
    ///
    /// # Errors
    /// 429 over the limit, with the seconds to wait.
    pub fn limit(&self, caller: &Caller) -> Result<(), HttpError> {
        match self.limiter.check_key(&caller.identity) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(HttpError::rate_limited(wait.as_secs().max(1)))
            }
        }
    }

    /// Forgets the buckets that are full again (called now and then).
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_token_comes_from_the_bearer_header_or_else_the_cookie() {
        let mut headers = HeaderMap::new();
        assert_eq!(token_of(&headers), None);
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; hoinghi_token=hn_c; d=e"));
        assert_eq!(token_of(&headers).as_deref(), Some("hn_c"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer hn_a"));
        assert_eq!(token_of(&headers).as_deref(), Some("hn_a"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic eDp5"));
        assert_eq!(token_of(&headers), None, "another scheme is no token");
    }

    #[test]
    fn the_session_cookie_works_only_from_this_origin_and_the_bearer_token_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(hoinghi_credentials::creds_path(dir.path(), "site-a"), "x").unwrap();
        let (token, _) = crate::tokens::issue(dir.path(), "site-a").unwrap();
        let gate = Gate::new(TokenStore::open(dir.path()).unwrap(), 10, 10);
        let mut cookie = HeaderMap::new();
        cookie.insert(header::COOKIE, HeaderValue::from_str(&format!("{COOKIE}={token}")).unwrap());
        cookie.insert(header::HOST, HeaderValue::from_static("gw.example:8080"));
        assert_eq!(gate.identify(&cookie).unwrap().identity, "site-a", "no Origin: a navigation");
        cookie.insert(header::ORIGIN, HeaderValue::from_static("http://gw.example:8080"));
        assert!(gate.identify(&cookie).is_ok());
        cookie.insert(header::ORIGIN, HeaderValue::from_static("http://gw.example:9999"));
        assert_eq!(gate.identify(&cookie).unwrap_err().status, axum::http::StatusCode::FORBIDDEN);
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        bearer.insert(header::ORIGIN, HeaderValue::from_static("https://ecabinet.example"));
        assert!(gate.identify(&bearer).is_ok(), "an integrator's page sends its token itself (CORS decides)");
    }

    #[test]
    fn each_identity_has_its_own_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(TokenStore::open(dir.path()).unwrap(), 1, 2);
        let (a, b) = (Caller { identity: "site-a".into() }, Caller { identity: "site-b".into() });
        assert!(gate.limit(&a).is_ok() && gate.limit(&a).is_ok());
        let refused = gate.limit(&a).unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some_and(|s| s >= 1));
        assert!(gate.limit(&b).is_ok(), "another identity is not slowed down");
    }
}

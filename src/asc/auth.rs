//! ES256 JWTs for the App Store Connect API: minted on demand, cached, re-minted before expiry and
//! after a 401, so a long processing wait never fails on an expired token.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;

use crate::asc::clock::SharedClock;
use crate::asc::credentials::{Credentials, Secret};

/// Token lifetime. Apple rejects tokens living longer than 20 minutes.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// `iat` is backdated by this much so a client clock slightly ahead of Apple's does not matter
/// (kept small: servers that cap a token's age count from `iat`).
pub const CLOCK_SKEW: Duration = Duration::from_secs(30);
/// A cached token is replaced once it has less than this left.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(2 * 60);
/// Audience every App Store Connect API token carries.
pub const AUDIENCE: &str = "appstoreconnect-v1";

#[derive(Debug, thiserror::Error)]
#[error("could not sign the App Store Connect token with the private key")]
pub struct SignError;

struct Cached {
    token: Secret<String>,
    expires: SystemTime,
    generation: u64,
}

/// Mints and caches tokens.
pub struct TokenSource {
    credentials: Credentials,
    clock: SharedClock,
    cache: Mutex<Option<Cached>>,
    minted: Mutex<u64>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// A token plus the generation it belongs to, so a 401 invalidates only the token that failed.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret<String>,
    pub generation: u64,
}

impl TokenSource {
    pub fn new(credentials: Credentials, clock: SharedClock) -> Self {
        TokenSource {
            credentials,
            clock,
            cache: Mutex::new(None),
            minted: Mutex::new(0),
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// How many tokens were minted so far.
    pub fn minted(&self) -> u64 {
        self.minted.lock().map(|m| *m).unwrap_or(0)
    }

    /// A valid token: the cached one while it has more than [`REFRESH_BEFORE`] left, else a new one.
    pub fn token(&self) -> Result<Token, SignError> {
        let now = self.clock.now();
        let mut cache = self.cache.lock().map_err(|_| SignError)?;
        if let Some(c) = cache.as_ref() {
            if c.expires.duration_since(now).is_ok_and(|left| left > REFRESH_BEFORE) {
                return Ok(Token {
                    value: c.token.clone(),
                    generation: c.generation,
                });
            }
        }
        let (token, expires) = self.mint(now)?;
        // The JWT is as good as the key for 20 minutes: masked and redacted like it.
        crate::output::protect(&token);
        let generation = {
            let mut m = self.minted.lock().map_err(|_| SignError)?;
            *m += 1;
            *m
        };
        *cache = Some(Cached {
            token: Secret::new(token.clone()),
            expires,
            generation,
        });
        Ok(Token {
            value: Secret::new(token),
            generation,
        })
    }

    /// Drops the cached token if it is the one that was rejected.
    pub fn invalidate(&self, generation: u64) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.as_ref().is_some_and(|c| c.generation == generation) {
                *cache = None;
            }
        }
    }

    fn mint(&self, now: SystemTime) -> Result<(String, SystemTime), SignError> {
        let unix = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| SignError)?
            .as_secs();
        let iat = unix.saturating_sub(CLOCK_SKEW.as_secs());
        let exp = unix + TOKEN_LIFETIME.as_secs();
        let header = serde_json::json!({ "alg": "ES256", "kid": self.credentials.key_id, "typ": "JWT" });
        let claims = match &self.credentials.issuer_id {
            Some(iss) => serde_json::json!({ "iss": iss, "iat": iat, "exp": exp, "aud": AUDIENCE }),
            None => serde_json::json!({ "sub": "user", "iat": iat, "exp": exp, "aud": AUDIENCE }),
        };
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signing_input = format!("{}.{}", b64.encode(header.to_string()), b64.encode(claims.to_string()));
        // FIXED signing gives the raw 64-byte R‖S JWS wants, not DER.
        let sig = self
            .credentials
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| SignError)?;
        let token = format!("{signing_input}.{}", b64.encode(sig.as_ref()));
        Ok((token, now + TOKEN_LIFETIME))
    }
}

//! JWT verification the way App Store Connect does it: ES256 over a known key id, audience
//! `appstoreconnect-v1`, at most 20 minutes of lifetime, and a team (`iss`) or individual
//! (`sub: "user"`) key.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// Apple rejects tokens that live longer than this (seconds).
pub(crate) const MAX_LIFETIME_SECS: i64 = 1200;
const AUDIENCE: &str = "appstoreconnect-v1";
/// Tolerated clock skew for an `iat` in the future.
const FUTURE_SKEW_SECS: i64 = 60;

/// The keys the simulator trusts.
pub(crate) struct KeyRing {
    keys: HashMap<String, DecodingKey>,
    /// The generated key's id and the issuer id it belongs to: tokens for it must name that issuer.
    own: (String, String),
}

/// Why a token was refused (logged on stderr; the client only sees Apple's generic 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

impl KeyRing {
    pub fn new(own_key_id: &str, own_issuer: &str, own_public_pem: &str) -> Result<Self, String> {
        let mut ring = KeyRing {
            keys: HashMap::new(),
            own: (own_key_id.to_owned(), own_issuer.to_owned()),
        };
        ring.add(own_key_id, own_public_pem)?;
        Ok(ring)
    }

    pub fn add(&mut self, key_id: &str, public_pem: &str) -> Result<(), String> {
        let key = DecodingKey::from_ec_pem(public_pem.as_bytes()).map_err(|e| e.to_string())?;
        self.keys.insert(key_id.to_owned(), key);
        Ok(())
    }

    /// Checks an `Authorization` header value at `now` (Unix seconds).
    pub fn verify(&self, authorization: Option<&str>, now: i64, max_age: Option<Duration>) -> Result<(), Refusal> {
        let refuse = |why: &str| Err(Refusal(why.to_owned()));
        let Some(value) = authorization else {
            return refuse("no Authorization header");
        };
        let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
            return refuse("Authorization is not a Bearer token");
        };
        let header = match jsonwebtoken::decode_header(token) {
            Ok(h) => h,
            Err(_) => return refuse("token is not a JWT"),
        };
        if header.alg != Algorithm::ES256 {
            return refuse("token is not signed with ES256");
        }
        let Some(kid) = header.kid.as_deref() else {
            return refuse("token header has no kid");
        };
        let Some(key) = self.keys.get(kid) else {
            return refuse("unknown key id");
        };
        // Signature only; every claim is checked below with Apple's rules and our clock.
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = match jsonwebtoken::decode::<Value>(token, key, &validation) {
            Ok(data) => data.claims,
            Err(_) => return refuse("bad signature"),
        };
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == AUDIENCE,
            Some(Value::Array(items)) => items.len() == 1 && items.first().and_then(Value::as_str) == Some(AUDIENCE),
            _ => false,
        };
        if !aud_ok {
            return refuse("aud is not appstoreconnect-v1");
        }
        let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
            return refuse("exp missing");
        };
        if exp <= now {
            return refuse("token expired");
        }
        if exp - now > MAX_LIFETIME_SECS {
            return refuse("exp is more than 20 minutes in the future");
        }
        let iat = claims.get("iat").and_then(Value::as_i64);
        if let Some(iat) = iat {
            if exp - iat > MAX_LIFETIME_SECS {
                return refuse("token lifetime (exp - iat) is over 20 minutes");
            }
            if iat > now + FUTURE_SKEW_SECS {
                return refuse("iat is in the future");
            }
        }
        if let Some(max_age) = max_age {
            let max = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            match iat {
                None => return refuse("iat missing (required by --token-max-age)"),
                Some(iat) if now.saturating_sub(iat) > max => {
                    return refuse("token older than --token-max-age");
                }
                Some(_) => {}
            }
        }
        match (
            claims.get("iss").and_then(Value::as_str),
            claims.get("sub").and_then(Value::as_str),
        ) {
            (Some(iss), _) if !iss.is_empty() => {
                if kid == self.own.0 && iss != self.own.1 {
                    return refuse("iss does not match the key's issuer id");
                }
                Ok(())
            }
            (None, Some("user")) => Ok(()),
            _ => refuse("neither iss (team key) nor sub \"user\" (individual key)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    fn ring() -> (KeyRing, String) {
        let k = crate::keys::generate().unwrap();
        (KeyRing::new("KEY1", "issuer-1", &k.public_pem).unwrap(), k.private_pem)
    }

    fn token(pem: &str, kid: &str, claims: Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.into());
        encode(&h, &claims, &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn accepts_team_and_individual_tokens() {
        let (ring, pem) = ring();
        let now = 1_000_000;
        let t = token(
            &pem,
            "KEY1",
            json!({"iss":"issuer-1","iat":now,"exp":now+600,"aud":"appstoreconnect-v1"}),
        );
        assert_eq!(ring.verify(Some(&format!("Bearer {t}")), now, None), Ok(()));
        let t = token(
            &pem,
            "KEY1",
            json!({"sub":"user","iat":now,"exp":now+600,"aud":["appstoreconnect-v1"]}),
        );
        assert_eq!(ring.verify(Some(&format!("Bearer {t}")), now, None), Ok(()));
    }

    #[test]
    fn refuses_what_apple_refuses() {
        let (ring, pem) = ring();
        let now = 1_000_000;
        let cases = [
            (
                "KEY2",
                json!({"iss":"issuer-1","iat":now,"exp":now+600,"aud":"appstoreconnect-v1"}),
            ),
            ("KEY1", json!({"iss":"issuer-1","iat":now,"exp":now+600,"aud":"other"})),
            (
                "KEY1",
                json!({"iss":"issuer-1","iat":now,"exp":now+1300,"aud":"appstoreconnect-v1"}),
            ),
            (
                "KEY1",
                json!({"iss":"issuer-1","iat":now-1300,"exp":now+10,"aud":"appstoreconnect-v1"}),
            ),
            (
                "KEY1",
                json!({"iss":"issuer-1","iat":now-700,"exp":now-1,"aud":"appstoreconnect-v1"}),
            ),
            ("KEY1", json!({"iat":now,"exp":now+600,"aud":"appstoreconnect-v1"})),
            (
                "KEY1",
                json!({"iss":"someone-else","iat":now,"exp":now+600,"aud":"appstoreconnect-v1"}),
            ),
        ];
        for (kid, claims) in cases {
            let t = token(&pem, kid, claims.clone());
            assert!(
                ring.verify(Some(&format!("Bearer {t}")), now, None).is_err(),
                "{claims}"
            );
        }
        assert!(ring.verify(None, now, None).is_err());
        assert!(ring.verify(Some("Bearer nope"), now, None).is_err());
    }

    #[test]
    fn max_age_rejects_old_tokens() {
        let (ring, pem) = ring();
        let now = 1_000_000;
        let t = token(
            &pem,
            "KEY1",
            json!({"iss":"issuer-1","iat":now-120,"exp":now+600,"aud":"appstoreconnect-v1"}),
        );
        let h = format!("Bearer {t}");
        assert!(ring.verify(Some(&h), now, Some(Duration::from_secs(60))).is_err());
        assert!(ring.verify(Some(&h), now, Some(Duration::from_secs(300))).is_ok());
    }
}

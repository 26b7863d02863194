//! Who is asking, and may they? Pure decisions over parsed credentials; the stores and
//! HTTP layers feed them.

use serde::{Deserialize, Serialize};

use crate::keys::{SECRET_PREFIX, WRITE_PREFIX};

/// What a secret key may do. Scopes are ordered: `admin` includes `write`, which includes `read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Run queries and read results.
    Read,
    /// Edit definitions (cohorts, insights, experiments).
    Write,
    /// Users, keys and project settings.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// A credential as presented in a request, before any lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    None,
    Secret(String),
    Write(String),
    Malformed,
}

impl Credential {
    /// Parses an `Authorization` header: `Bearer <key>` (or a bare key).
    pub fn from_authorization(header: Option<&str>) -> Credential {
        let Some(header) = header else { return Credential::None };
        let key = header.strip_prefix("Bearer ").unwrap_or(header).trim();
        Credential::from_key(key)
    }

    pub fn from_key(key: &str) -> Credential {
        let well_formed = |prefix: &str| {
            key.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
        };
        if key.is_empty() {
            Credential::None
        } else if well_formed(SECRET_PREFIX) {
            Credential::Secret(key.to_string())
        } else if well_formed(WRITE_PREFIX) {
            Credential::Write(key.to_string())
        } else {
            Credential::Malformed
        }
    }
}

/// An authenticated caller: a secret key of one project with its scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub project_id: i64,
    pub key_id: i64,
    pub scopes: Vec<Scope>,
}

/// Why a request was refused. The HTTP layers map these to 401 / 403.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("missing API key: send `Authorization: Bearer <secret key>`")]
    Missing,
    #[error("malformed API key")]
    Malformed,
    #[error("unknown or revoked API key")]
    Unknown,
    #[error("a project write key can only send events; use a secret API key to read")]
    WriteKeyCannotRead,
    #[error("this key belongs to another project")]
    WrongProject,
    #[error("this key lacks the `{0}` scope")]
    MissingScope(&'static str),
}

impl Denied {
    /// True when the caller is not authenticated at all (HTTP 401), false when
    /// authenticated but not allowed (HTTP 403).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, Denied::Missing | Denied::Malformed | Denied::Unknown)
    }
}

/// May `principal` (already looked up) act on `project_id` with `needed`?
pub fn authorize(principal: &Principal, project_id: i64, needed: Scope) -> Result<(), Denied> {
    if principal.project_id != project_id {
        return Err(Denied::WrongProject);
    }
    if principal.scopes.iter().any(|s| *s >= needed) {
        Ok(())
    } else {
        Err(Denied::MissingScope(needed.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_classified() {
        assert_eq!(Credential::from_authorization(None), Credential::None);
        assert_eq!(
            Credential::from_authorization(Some("Bearer nsk_abc")),
            Credential::Secret("nsk_abc".into())
        );
        assert_eq!(Credential::from_authorization(Some("nw_abc")), Credential::Write("nw_abc".into()));
        for bad in ["Bearer nsk_", "Bearer nsk_a'b", "Basic xyz", "Bearer ' OR 1=1"] {
            assert_eq!(Credential::from_authorization(Some(bad)), Credential::Malformed, "{bad}");
        }
    }

    #[test]
    fn scopes_nest_and_projects_are_separate() {
        let reader = Principal { project_id: 1, key_id: 1, scopes: vec![Scope::Read] };
        let admin = Principal { project_id: 1, key_id: 2, scopes: vec![Scope::Admin] };
        assert!(authorize(&reader, 1, Scope::Read).is_ok());
        assert_eq!(authorize(&reader, 1, Scope::Write), Err(Denied::MissingScope("write")));
        assert!(authorize(&admin, 1, Scope::Read).is_ok());
        assert_eq!(authorize(&admin, 2, Scope::Read), Err(Denied::WrongProject));
    }
}

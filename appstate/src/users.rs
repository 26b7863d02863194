//! Dashboard users: accounts (argon2id password hashes), roles per project, and sign-in
//! sessions (random tokens stored as SHA-256, each with its CSRF token and expiry).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::Scope;
use crate::error::{AppStateError, Result};
use crate::keys::hash_secret;
use crate::store::{now, AppState};

/// What a user may do in one project. Ordered: admin includes analyst includes viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read dashboards and run queries.
    Viewer,
    /// Read, and edit definitions (cohorts, insights).
    Analyst,
    /// Everything, and users, keys and settings.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim() {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The key scope with the same powers.
    pub fn scope(self) -> Scope {
        match self {
            Role::Viewer => Scope::Read,
            Role::Analyst => Scope::Write,
            Role::Admin => Scope::Admin,
        }
    }
}

/// A user as listed (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub created_at: String,
}

/// A user's role in one project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub project_id: i64,
    pub project_name: String,
    pub role: Role,
}

/// A project's member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
}

/// A live session found by its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at_ms: i64,
}

/// A new session: the token (the cookie's value) and its CSRF token, shown once.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at_ms: i64,
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppStateError::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppStateError::Invalid(e.to_string()))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(AppStateError::Invalid("an email address like name@example.com is needed".into()))
    }
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<User> {
    Ok(User { id: row.try_get("id")?, email: row.try_get("email")?, created_at: row.try_get("created_at")? })
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

impl AppState {
    /// Creates a user; the email must be new and the password at least
    /// [`MIN_PASSWORD_LEN`] characters.
    pub async fn create_user(&self, email: &str, password: &str) -> Result<User> {
        let email = normalize_email(email)?;
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(AppStateError::Invalid(format!(
                "a password needs at least {MIN_PASSWORD_LEN} characters"
            )));
        }
        let hash = hash_password(password)?;
        let created_at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(&email)
        .bind(hash)
        .bind(&created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.message().contains("UNIQUE") => {
                AppStateError::Invalid(format!("a user with the email {email} exists"))
            }
            other => AppStateError::Database(other),
        })?;
        Ok(User { id, email, created_at })
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, created_at FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    /// The user whose email and password match, or `None` (same answer for both failures).
    pub async fn verify_login(&self, email: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, created_at, password_hash FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            // Spend the same time as a real check so timing does not reveal accounts.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| hash_password("numu dummy password").unwrap_or_default());
            let _ = verify_password(password, dummy);
            return Ok(None);
        };
        let stored: String = row.try_get("password_hash")?;
        if verify_password(password, &stored) {
            Ok(Some(user_from_row(&row)?))
        } else {
            Ok(None)
        }
    }

    /// Gives `user_id` the `role` in `project_id` (replacing any earlier role).
    pub async fn set_role(&self, user_id: i64, project_id: i64, role: Role) -> Result<()> {
        if self.project(project_id).await?.is_none() {
            return Err(AppStateError::ProjectNotFound(project_id));
        }
        sqlx::query(
            "INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user_id)
        .bind(project_id)
        .bind(role.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes `user_id` from `project_id`; true when it was a member.
    pub async fn remove_member(&self, user_id: i64, project_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND project_id = $2")
            .bind(user_id)
            .bind(project_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn role(&self, user_id: i64, project_id: i64) -> Result<Option<Role>> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE user_id = $1 AND project_id = $2")
                .bind(user_id)
                .bind(project_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(role.as_deref().and_then(Role::parse))
    }

    pub async fn memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT m.project_id, p.name, m.role FROM memberships m JOIN projects p ON p.id = m.project_id \
             WHERE m.user_id = $1 ORDER BY m.project_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .filter_map(|row| {
                let role = Role::parse(&row.try_get::<String, _>("role").ok()?)?;
                Some(Ok(Membership {
                    project_id: row.try_get("project_id").ok()?,
                    project_name: row.try_get("name").ok()?,
                    role,
                }))
            })
            .collect()
    }

    pub async fn members(&self, project_id: i64) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.project_id = $1 ORDER BY u.email",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(Member {
                    user_id: row.try_get("id").ok()?,
                    email: row.try_get("email").ok()?,
                    role: Role::parse(&row.try_get::<String, _>("role").ok()?)?,
                })
            })
            .collect())
    }

    /// Starts a session for `user_id` lasting `ttl_secs`.
    pub async fn create_session(&self, user_id: i64, ttl_secs: i64) -> Result<NewSession> {
        let token = Alphanumeric.sample_string(&mut rand::rng(), 43);
        let csrf_token = Alphanumeric.sample_string(&mut rand::rng(), 32);
        let expires_at_ms = now_ms() + ttl_secs.max(1) * 1000;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash_secret(&token))
        .bind(user_id)
        .bind(&csrf_token)
        .bind(now())
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(NewSession { token, csrf_token, expires_at_ms })
    }

    /// The live session for `token`; expired sessions are deleted and answer `None`.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.created_at, s.csrf_token, s.expires_at_ms FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(hash_secret(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at_ms: i64 = row.try_get("expires_at_ms")?;
        if expires_at_ms <= now_ms() {
            self.delete_session(token).await?;
            return Ok(None);
        }
        Ok(Some(Session {
            user: user_from_row(&row)?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at_ms,
        }))
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at_ms <= $2")
            .bind(hash_secret(token))
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Renames a project and sets the origins allowed to send from browsers.
    pub async fn update_project(
        &self,
        project_id: i64,
        name: &str,
        allowed_origins: &[String],
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(AppStateError::Invalid("a project name needs 1 to 200 characters".into()));
        }
        let origins: Vec<&str> = allowed_origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
        if origins.iter().any(|o| o.contains(',') || o.contains(char::is_whitespace)) {
            return Err(AppStateError::Invalid("origins look like https://example.com".into()));
        }
        let done = sqlx::query("UPDATE projects SET name = $1, allowed_origins = $2 WHERE id = $3")
            .bind(name)
            .bind(origins.join(","))
            .bind(project_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppStateError::ProjectNotFound(project_id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_sign_in_and_hold_roles() {
        let state = AppState::in_memory().await.unwrap();
        let project = state.create_project("Shop").await.unwrap().project;
        let user = state.create_user(" Ada@Example.com ", "correct horse").await.unwrap();
        assert_eq!(user.email, "ada@example.com");
        assert!(state.create_user("ada@example.com", "another one").await.is_err());
        assert!(state.create_user("bob@example.com", "short").await.is_err());
        assert!(state.create_user("not-an-email", "long enough").await.is_err());
        // The hash is argon2id, never the password.
        let stored: String =
            sqlx::query_scalar("SELECT password_hash FROM users").fetch_one(&state.pool).await.unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("correct horse"));
        assert_eq!(state.verify_login("ADA@example.com", "correct horse").await.unwrap(), Some(user.clone()));
        assert_eq!(state.verify_login("ada@example.com", "wrong horse").await.unwrap(), None);
        assert_eq!(state.verify_login("nobody@example.com", "correct horse").await.unwrap(), None);

        assert_eq!(state.role(user.id, project.id).await.unwrap(), None);
        state.set_role(user.id, project.id, Role::Viewer).await.unwrap();
        state.set_role(user.id, project.id, Role::Admin).await.unwrap();
        assert_eq!(state.role(user.id, project.id).await.unwrap(), Some(Role::Admin));
        assert_eq!(state.memberships(user.id).await.unwrap().len(), 1);
        assert_eq!(state.members(project.id).await.unwrap()[0].role, Role::Admin);
        assert!(matches!(
            state.set_role(user.id, 99, Role::Admin).await,
            Err(AppStateError::ProjectNotFound(99))
        ));
        assert!(state.remove_member(user.id, project.id).await.unwrap());
        assert_eq!(state.role(user.id, project.id).await.unwrap(), None);
        assert!(Role::Admin > Role::Analyst && Role::Analyst > Role::Viewer);
        assert_eq!(Role::Analyst.scope(), Scope::Write);
    }

    #[tokio::test]
    async fn sessions_are_stored_hashed_and_expire() {
        let state = AppState::in_memory().await.unwrap();
        let user = state.create_user("ada@example.com", "correct horse").await.unwrap();
        let session = state.create_session(user.id, 3600).await.unwrap();
        let found = state.session(&session.token).await.unwrap().unwrap();
        assert_eq!(found.user, user);
        assert_eq!(found.csrf_token, session.csrf_token);
        let stored: String =
            sqlx::query_scalar("SELECT token_hash FROM sessions").fetch_one(&state.pool).await.unwrap();
        assert_ne!(stored, session.token);
        assert!(state.session("nope").await.unwrap().is_none());
        state.delete_session(&session.token).await.unwrap();
        assert!(state.session(&session.token).await.unwrap().is_none());
        // An expired session answers None.
        let short = state.create_session(user.id, 1).await.unwrap();
        sqlx::query("UPDATE sessions SET expires_at_ms = 0").execute(&state.pool).await.unwrap();
        assert!(state.session(&short.token).await.unwrap().is_none());
    }
}

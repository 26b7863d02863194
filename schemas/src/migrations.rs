//! The warehouse migrations: numbered `.sql` files under `schemas/migrations/`, compiled in.

/// One numbered migration: one statement, or several separated by `;` at the end of a line
/// (the engines take one statement per request, so the runner sends them one by one). The
/// file as a whole must be idempotent (`IF NOT EXISTS`, or a table emptied before it is
/// refilled), because a run interrupted before the ledger records it runs again.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $file:literal, $name:literal) => {
        Migration { version: $version, name: $name, sql: include_str!(concat!("../migrations/", $file)) }
    };
}

/// All migrations, in the order they apply.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_events.sql", "events"),
    migration!(2, "0002_identity.sql", "identity"),
    migration!(3, "0003_person_mapping.sql", "person_mapping"),
    migration!(4, "0004_person_properties.sql", "person_properties"),
    migration!(5, "0005_dead_letters.sql", "dead_letters"),
    migration!(6, "0006_cohort_members.sql", "cohort_members"),
    migration!(7, "0007_session_hours.sql", "session_hours"),
    migration!(8, "0008_page_hours.sql", "page_hours"),
];

impl Migration {
    /// A stable checksum of the statement text, recorded when applied so an edited
    /// migration is noticed instead of silently skipped.
    pub fn checksum(&self) -> String {
        // FNV-1a 64: stable across Rust versions, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.sql.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// The statements, without comment lines, in order.
    pub fn statements(&self) -> Vec<String> {
        let text: Vec<&str> = self.sql.lines().filter(|line| !line.trim_start().starts_with("--")).collect();
        text.join("\n")
            .split(";\n")
            .map(|statement| statement.trim().trim_end_matches(';').trim().to_string())
            .filter(|statement| !statement.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_version_and_name() {
        for m in MIGRATIONS {
            let expected = format!("{:04}_{}.sql", m.version, m.name);
            let path = format!("{}/migrations/{expected}", env!("CARGO_MANIFEST_DIR"));
            assert_eq!(std::fs::read_to_string(&path).unwrap(), m.sql, "{expected}");
        }
    }

    #[test]
    fn versions_are_strictly_increasing() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version, "{:?}", pair);
        }
    }

    #[test]
    fn every_statement_is_whole_and_every_migration_idempotent() {
        for m in MIGRATIONS {
            let statements = m.statements();
            assert!(!statements.is_empty(), "{} is empty", m.name);
            for statement in &statements {
                assert!(!statement.contains(';'), "{}: a `;` not at a line end in {statement}", m.name);
            }
            assert!(statements[0].contains("IF NOT EXISTS"), "{} is not idempotent", m.name);
        }
        let sessions = MIGRATIONS.iter().find(|m| m.name == "session_hours").unwrap().statements();
        let heads: Vec<&str> = sessions.iter().map(|s| s.split_whitespace().next().unwrap()).collect();
        assert_eq!(heads, ["CREATE", "TRUNCATE", "INSERT", "CREATE"], "{sessions:?}");
    }

    /// Each pre-aggregate's backfill and view must aggregate alike (a statement cannot name another's
    /// query, so the file carries it twice): the same text after their heads.
    #[test]
    fn pre_aggregates_backfill_and_view_share_one_query() {
        for table in ["session_hours", "page_hours"] {
            let statements = MIGRATIONS.iter().find(|m| m.name == table).unwrap().statements();
            let backfill = statements[2].strip_prefix(&format!("INSERT INTO {table}\n")).unwrap();
            let view = statements[3].split_once(" AS\n").unwrap().1;
            assert!(backfill.starts_with("SELECT"), "{backfill}");
            assert_eq!(backfill, view, "{table}");
        }
    }
}

//! The warehouse migrations: numbered `.sql` files under `schemas/migrations/`, compiled in.

/// One numbered migration. Each file holds one statement (the embedded engine rejects
/// multi-statement SQL) and must be idempotent (`IF NOT EXISTS`).
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

    /// The statement without its leading comment lines.
    pub fn statement(&self) -> String {
        self.sql
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .trim_end_matches(';')
            .to_string()
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
    fn every_migration_is_one_idempotent_statement() {
        for m in MIGRATIONS {
            let statement = m.statement();
            assert!(!statement.contains(';'), "{} holds several statements", m.name);
            assert!(statement.contains("IF NOT EXISTS"), "{} is not idempotent", m.name);
        }
    }
}

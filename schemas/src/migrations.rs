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
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(
                "../migrations/",
                stringify!($version),
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

/// All migrations, in the order they apply.
pub const MIGRATIONS: &[Migration] = &[
    migration!(0001, "events"),
    migration!(0002, "identity"),
    migration!(0003, "person_mapping"),
    migration!(0004, "person_properties"),
    migration!(0005, "dead_letters"),
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

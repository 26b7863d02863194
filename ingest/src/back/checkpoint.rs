//! The durable "done" position: the end of the last batch whose rows are in the warehouse.
//! Written by rename so a crash leaves either the old or the new position, never a mix.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::{segment, Error};

const FILE: &str = "checkpoint";

/// A place in the log: a segment and a byte offset inside it. Ordered by log order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.segment, self.offset)
    }
}

/// The stored position, or the start of the log when there is none.
pub(crate) fn read(dir: &Path) -> Result<Position, Error> {
    let text = match fs::read_to_string(dir.join(FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Position::default()),
        Err(e) => return Err(e.into()),
    };
    let mut parts = text.split_whitespace();
    let parse = |p: Option<&str>| p.and_then(|s| s.parse::<u64>().ok());
    match (parts.next(), parse(parts.next()), parse(parts.next())) {
        (Some("v1"), Some(segment), Some(offset)) => Ok(Position { segment, offset }),
        _ => Err(Error::Corrupt(format!("checkpoint file {:?} unreadable", text.trim()))),
    }
}

/// Stores `position` durably (write a temporary file, sync, rename, sync the directory).
pub(crate) fn write(dir: &Path, position: Position) -> Result<(), Error> {
    let tmp = dir.join("checkpoint.tmp");
    let mut file = fs::File::create(&tmp)?;
    writeln!(file, "v1 {} {}", position.segment, position.offset)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(FILE))?;
    segment::sync_dir(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_defaults_to_start() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), Position::default());
        let p = Position { segment: 7, offset: 1234 };
        write(dir.path(), p).unwrap();
        assert_eq!(read(dir.path()).unwrap(), p);
        assert!(Position { segment: 7, offset: 2 } > Position { segment: 6, offset: 9 });
    }
}

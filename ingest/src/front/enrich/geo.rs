//! Optional IP → country, region, city from a MaxMind-format database (GeoLite2 or
//! GeoIP2, City or Country). Only the three stored fields are decoded.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{path, Reader};

use crate::front::FrontError;

/// Where an IP is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The first subdivision's ISO code (e.g. `CA` for California).
    pub region: String,
    /// English city name.
    pub city: String,
}

/// An opened database.
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb").field("type", &self.reader.metadata().database_type).finish()
    }
}

impl GeoDb {
    pub fn open(file: &Path) -> Result<GeoDb, FrontError> {
        let reader = Reader::open_readfile(file)
            .map_err(|e| FrontError::Config(format!("geo database {}: {e}", file.display())))?;
        Ok(GeoDb { reader })
    }

    /// The place of `ip`, or `None` when the database has no record for it.
    pub fn lookup(&self, ip: IpAddr) -> Option<Place> {
        let found = self.reader.lookup(ip).ok()?;
        if !found.has_data() {
            return None;
        }
        let text = |path: &[maxminddb::PathElement<'_>]| -> String {
            found.decode_path::<&str>(path).ok().flatten().unwrap_or_default().to_string()
        };
        Some(Place {
            country: text(&path!["country", "iso_code"]),
            region: text(&path!["subdivisions", 0, "iso_code"]),
            city: text(&path!["city", "names", "en"]),
        })
    }
}

//! The collector's front half: HTTP endpoints, decoding, validation and enrichment.

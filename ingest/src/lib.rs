//! The collector (see the collector issue): decode, validate, enrich, log, batch.

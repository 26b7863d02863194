//! Decoded events → records: validate, check the property schema, enrich, add identity
//! records; refused events become dead letters with their raw text and reason. No IO:
//! the HTTP layer appends the outcome to the sink.

use std::net::IpAddr;

use serde::ser::SerializeStruct;

use super::decode::Incoming;
use super::enrich::Enricher;
use super::validate::validate;
use super::{identity, metrics, Config, FrontError, PropertySchemas};
use crate::{DeadLetter, Record};

/// What the request says about its events.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta<'a> {
    /// The route, e.g. `/v1/batch` (a metric label and the dead letters' `endpoint`).
    pub endpoint: &'static str,
    /// Our clock, epoch ms.
    pub received_at: i64,
    pub ip: Option<IpAddr>,
    /// The request's `User-Agent`, used when the event carries none (snippet and pixel).
    pub user_agent: Option<&'a str>,
    pub accept_language: Option<&'a str>,
    /// Segment endpoints need `userId` or `anonymousId`.
    pub require_identity: bool,
}

/// One refused event of a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub index: usize,
    pub error: FrontError,
}

impl serde::Serialize for Refusal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Refusal", 3)?;
        s.serialize_field("index", &self.index)?;
        s.serialize_field("code", self.error.code())?;
        s.serialize_field("reason", &self.error.to_string())?;
        s.end()
    }
}

/// The records of a request and what was refused.
#[derive(Debug, Default)]
pub struct Outcome {
    pub records: Vec<Record>,
    pub accepted: usize,
    pub refused: Vec<Refusal>,
}

/// Validation and enrichment, shared by every endpoint.
#[derive(Debug)]
pub struct Pipeline {
    pub enricher: Enricher,
    pub schemas: PropertySchemas,
}

/// A dead-letter record for a refused event (`index`) or payload (`-1`).
pub fn dead_letter(
    project_id: u64,
    meta: &RequestMeta<'_>,
    index: i32,
    raw: &[u8],
    error: &FrontError,
) -> Record {
    Record::DeadLetter(DeadLetter {
        project_id,
        received_at: meta.received_at,
        endpoint: meta.endpoint.to_string(),
        reason: error.code().to_string(),
        detail: error.to_string(),
        event_index: index,
        raw: raw.to_vec(),
    })
}

impl Pipeline {
    pub fn new(config: &Config, schemas: PropertySchemas, now_ms: i64) -> Result<Pipeline, FrontError> {
        Ok(Pipeline { enricher: Enricher::new(config, now_ms)?, schemas })
    }

    /// Turns a request's decoded events into records.
    pub fn process(&self, project_id: u64, meta: &RequestMeta<'_>, events: Vec<Incoming<'_>>) -> Outcome {
        let mut outcome = Outcome { records: Vec::with_capacity(events.len()), ..Outcome::default() };
        metrics::counter_received(meta.endpoint, events.len());
        for Incoming { index, raw, parsed } in events {
            let checked = parsed
                .and_then(|p| validate(p, meta.require_identity))
                .map_err(FrontError::from)
                .and_then(|valid| {
                    self.schemas.check(project_id, &valid.event, valid.message.properties.as_ref())?;
                    Ok(valid)
                });
            match checked {
                Ok(valid) => {
                    let enriched = self.enricher.enrich(project_id, valid, meta);
                    if enriched.row.is_bot {
                        metrics::bot();
                    }
                    identity::push_records(enriched, &mut outcome.records);
                    outcome.accepted += 1;
                }
                Err(error) => {
                    metrics::refused(meta.endpoint, error.code());
                    let position = i32::try_from(index).unwrap_or(i32::MAX);
                    outcome.records.push(dead_letter(project_id, meta, position, raw.as_bytes(), &error));
                    outcome.refused.push(Refusal { index, error });
                }
            }
        }
        outcome
    }
}

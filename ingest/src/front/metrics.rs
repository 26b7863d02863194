//! Metric names of the front half (the `metrics` facade; the server installs the
//! exporter). Labels are bounded: endpoints and error codes are fixed sets.

/// Events received, by `endpoint` (every event of a batch counts).
pub const RECEIVED: &str = "numu_ingest_received_total";
/// Events accepted and handed to the sink, by `endpoint`.
pub const ACCEPTED: &str = "numu_ingest_accepted_total";
/// Events or payloads refused, by `endpoint` and `reason` (an error code).
pub const REFUSED: &str = "numu_ingest_refused_total";
/// Dead-letter records written, by `reason`.
pub const DEAD_LETTERED: &str = "numu_ingest_dead_lettered_total";
/// Refused payloads not dead-lettered: unauthenticated, or over the anonymous budget.
pub const NOT_DEAD_LETTERED: &str = "numu_ingest_not_dead_lettered_total";
/// Accepted events flagged as bots.
pub const BOTS: &str = "numu_ingest_bots_total";
/// Requests answered, by `endpoint` and `status`.
pub const REQUESTS: &str = "numu_ingest_requests_total";
/// User-agent cache misses (each costs a full parse).
pub const UA_CACHE_MISSES: &str = "numu_ingest_ua_cache_misses_total";

pub(crate) fn refused(endpoint: &'static str, reason: &'static str) {
    metrics::counter!(REFUSED, "endpoint" => endpoint, "reason" => reason).increment(1);
}

pub(crate) fn dead_lettered(reason: &'static str) {
    metrics::counter!(DEAD_LETTERED, "reason" => reason).increment(1);
}

pub(crate) fn not_dead_lettered(reason: &'static str) {
    metrics::counter!(NOT_DEAD_LETTERED, "reason" => reason).increment(1);
}

pub(crate) fn counter_received(endpoint: &'static str, events: usize) {
    metrics::counter!(RECEIVED, "endpoint" => endpoint).increment(events as u64);
}

pub(crate) fn accepted(endpoint: &'static str, events: usize) {
    metrics::counter!(ACCEPTED, "endpoint" => endpoint).increment(events as u64);
}

pub(crate) fn bot() {
    metrics::counter!(BOTS).increment(1);
}

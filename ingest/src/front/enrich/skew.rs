//! Clock-skew correction. A client's clock may be off: the offset between its `sentAt`
//! and our receive time is added to its event time. What is still in the future after
//! that (a broken clock, or a forged time) is clamped to the receive time.

/// An event time after correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrected {
    pub timestamp: i64,
    /// The corrected time before clamping, when it was clamped.
    pub clamped_from: Option<i64>,
}

/// Corrects `timestamp` (client clock) using `sent_at` (client clock) and `received_at`
/// (ours), all epoch ms. Without a timestamp the event happened when it was received.
pub fn correct(
    timestamp: Option<i64>,
    sent_at: Option<i64>,
    received_at: i64,
    future_allowance_ms: i64,
) -> Corrected {
    let Some(timestamp) = timestamp else {
        return Corrected { timestamp: received_at, clamped_from: None };
    };
    let corrected = match sent_at {
        Some(sent_at) => timestamp.saturating_add(received_at.saturating_sub(sent_at)),
        None => timestamp,
    };
    if corrected > received_at.saturating_add(future_allowance_ms) {
        return Corrected { timestamp: received_at, clamped_from: Some(corrected) };
    }
    Corrected { timestamp: corrected, clamped_from: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_is_corrected_and_the_future_clamped() {
        let received = 1_000_000;
        // Client clock 5 s behind: sent at 995 000 by its clock, event 2 s before sending.
        assert_eq!(correct(Some(993_000), Some(995_000), received, 60_000).timestamp, 998_000);
        // Client clock 1 h ahead.
        assert_eq!(correct(Some(4_600_000), Some(4_600_500), received, 60_000).timestamp, 999_500);
        // No sentAt: taken as given.
        assert_eq!(correct(Some(990_000), None, received, 60_000).timestamp, 990_000);
        // No timestamp: the receive time.
        assert_eq!(correct(None, Some(5), received, 60_000).timestamp, received);
        // Within the allowance: kept; beyond: clamped, with the original kept.
        assert_eq!(correct(Some(1_030_000), None, received, 60_000).timestamp, 1_030_000);
        assert_eq!(
            correct(Some(9_000_000), None, received, 60_000),
            Corrected { timestamp: received, clamped_from: Some(9_000_000) }
        );
        assert_eq!(correct(Some(i64::MAX), Some(i64::MIN), received, 60_000).timestamp, received);
    }
}

//! The model's messages through the collector's own decoding and enrichment
//! (`numu_ingest::front`), without HTTP: every message is accepted as a `/v1/batch` item,
//! bots are recognised, and landing page views get the channel the model says.

use std::collections::{BTreeMap, HashMap};

use numu_ingest::front::segment::decode_batch;
use numu_ingest::front::{Config, Pipeline, PropertySchemas, RequestMeta};
use numu_ingest::Record;
use numu_load_tests::demo::send::batches;
use numu_load_tests::model::{agents, Generator, ModelConfig};

#[test]
fn the_collector_accepts_and_classifies_every_message() {
    let config = ModelConfig { seed: 13, days: 4, visitors_per_day: 250.0, ..ModelConfig::default() };
    let now = config.now_ms;
    let mut generator = Generator::new(config).unwrap();
    let pipeline = Pipeline::new(&Config::default(), PropertySchemas::new(), now).unwrap();
    let meta = RequestMeta {
        endpoint: "/v1/batch",
        received_at: now,
        require_identity: true,
        ..RequestMeta::default()
    };
    let mut rows = Vec::new();
    let (mut accepted, mut links) = (0, 0);
    for batch in batches(generator.by_ref(), 500_000, 100) {
        let body = batch.unwrap().body(now);
        let decoded =
            decode_batch(std::str::from_utf8(&body).unwrap(), Config::default().max_event_bytes).unwrap();
        let outcome = pipeline.process(1, &meta, decoded.events);
        assert!(outcome.refused.is_empty(), "{:?}", outcome.refused);
        accepted += outcome.accepted as u64;
        for record in outcome.records {
            match record {
                Record::Event(row) => rows.push(*row),
                Record::Link(_) => links += 1,
                _ => {}
            }
        }
    }
    let truths = generator.into_truths();
    assert_eq!(accepted, truths.messages);
    assert_eq!(rows.len() as u64, truths.messages);
    assert!(links >= truths.identified + truths.second_device, "identify and alias link ids");
    let bots = rows.iter().filter(|r| r.is_bot).count() as u64;
    assert_eq!(bots, truths.bot_messages, "every bot user agent is recognised, no browser is taken for one");
    let mut first_channel: HashMap<&str, &str> = HashMap::new();
    let mut by_time: Vec<_> = rows.iter().filter(|r| !r.is_bot && r.event == "$pageview").collect();
    by_time.sort_by_key(|r| r.timestamp);
    for row in by_time {
        first_channel.entry(&row.anonymous_id).or_insert(&row.channel);
    }
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for channel in first_channel.values() {
        *counted.entry((*channel).to_string()).or_default() += 1;
    }
    let mut expected = truths.stored_channel_visitors();
    *expected.entry("direct".into()).or_default() += truths.second_device;
    assert_eq!(counted, expected, "first page views by stored channel");
    let mut browsers: BTreeMap<&str, u64> = BTreeMap::new();
    for row in rows.iter().filter(|r| !r.is_bot) {
        assert!(!row.browser.is_empty() && !row.device_type.is_empty(), "browser and device of {row:?}");
        *browsers.entry(&row.browser).or_default() += 1;
    }
    let families = agents::HUMAN_AGENTS.iter().map(|a| a.browser).collect::<std::collections::BTreeSet<_>>();
    assert!(browsers.len() >= 6 && families.len() >= 6, "several browsers: {browsers:?}");
}

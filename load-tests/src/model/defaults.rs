//! The default channel mix and experiment: seven channels named as in the common default
//! channel grouping, paid campaigns that differ in cost and in conversion quality.

use super::config::{weighted, CampaignConfig, ChannelConfig, ExperimentConfig, VariantConfig};

fn campaign(name: &str, source: &str, medium: &str, weight: f64, multiplier: f64) -> CampaignConfig {
    CampaignConfig {
        name: name.into(),
        source: source.into(),
        medium: medium.into(),
        term: None,
        content: None,
        weight,
        signup_multiplier: multiplier,
        referrer: None,
        landing_path: None,
        click_id: None,
        cost_per_click: None,
        click_through_rate: 0.0,
    }
}

fn paid(mut c: CampaignConfig, referrer: &str, click_id: &str, cpc: f64, ctr: f64) -> CampaignConfig {
    c.referrer = Some(referrer.into());
    c.click_id = Some(click_id.into());
    c.cost_per_click = Some(cpc);
    c.click_through_rate = ctr;
    c
}

fn channel(
    name: &str,
    stored_as: &str,
    weight: f64,
    multiplier: f64,
    landing: &[(&str, f64)],
) -> ChannelConfig {
    ChannelConfig {
        name: name.into(),
        stored_as: stored_as.into(),
        weight,
        signup_multiplier: multiplier,
        referrers: Vec::new(),
        campaigns: Vec::new(),
        landing_paths: weighted(landing),
    }
}

fn with_referrers(mut c: ChannelConfig, referrers: &[(&str, f64)]) -> ChannelConfig {
    c.referrers = weighted(referrers);
    c
}

fn paid_search() -> Vec<CampaignConfig> {
    let mut brand = paid(
        campaign("brand_search", "google", "cpc", 0.4, 1.8),
        "https://www.google.com/",
        "gclid",
        0.9,
        0.09,
    );
    brand.term = Some("numu analytics".into());
    brand.landing_path = Some("/".into());
    let mut generic = paid(
        campaign("generic_search", "google", "cpc", 0.45, 0.8),
        "https://www.google.com/",
        "gclid",
        2.4,
        0.035,
    );
    generic.term = Some("web analytics tool".into());
    generic.landing_path = Some("/lp/analytics".into());
    let mut bing = paid(
        campaign("bing_generic", "bing", "cpc", 0.15, 0.9),
        "https://www.bing.com/",
        "msclkid",
        1.6,
        0.03,
    );
    bing.term = Some("self hosted analytics".into());
    bing.landing_path = Some("/lp/analytics".into());
    vec![brand, generic, bing]
}

fn paid_social() -> Vec<CampaignConfig> {
    let mut promo = paid(
        campaign("spring_promo", "facebook", "paid_social", 0.5, 0.5),
        "https://l.facebook.com/",
        "fbclid",
        0.7,
        0.012,
    );
    promo.content = Some("video_a".into());
    promo.landing_path = Some("/pricing".into());
    let mut retarget = paid(
        campaign("retargeting", "facebook", "paid_social", 0.2, 1.5),
        "https://l.facebook.com/",
        "fbclid",
        1.1,
        0.02,
    );
    retarget.content = Some("carousel".into());
    retarget.landing_path = Some("/pricing".into());
    let mut b2b = paid(
        campaign("b2b_launch", "linkedin", "paid_social", 0.3, 1.2),
        "https://www.linkedin.com/",
        "li_fat_id",
        5.0,
        0.006,
    );
    b2b.landing_path = Some("/lp/analytics".into());
    vec![promo, retarget, b2b]
}

fn email() -> Vec<CampaignConfig> {
    let mut weekly = campaign("weekly_newsletter", "newsletter", "email", 0.7, 1.4);
    weekly.landing_path = Some("/blog/retention-curves".into());
    let mut tips = campaign("onboarding_tips", "newsletter", "email", 0.3, 1.2);
    tips.landing_path = Some("/features".into());
    vec![weekly, tips]
}

/// The default channels (weights sum to 1).
pub fn channels() -> Vec<ChannelConfig> {
    let blog: &[(&str, f64)] = &[
        ("/blog/what-is-a-funnel", 3.0),
        ("/blog/utm-parameters-guide", 2.5),
        ("/blog/retention-curves", 2.0),
        ("/blog/ab-testing-pitfalls", 1.5),
        ("/docs/getting-started", 1.5),
        ("/", 2.0),
    ];
    let organic_search = with_referrers(
        channel("Organic Search", "search", 0.28, 0.9, blog),
        &[
            ("https://www.google.com/", 0.8),
            ("https://www.bing.com/", 0.1),
            ("https://duckduckgo.com/", 0.07),
            ("https://search.yahoo.com/", 0.03),
        ],
    );
    let organic_social = with_referrers(
        channel(
            "Organic Social",
            "social",
            0.1,
            0.6,
            &[("/blog/what-is-a-funnel", 1.0), ("/blog/ab-testing-pitfalls", 1.0), ("/", 1.0)],
        ),
        &[
            ("https://t.co/", 0.3),
            ("https://www.facebook.com/", 0.2),
            ("https://www.linkedin.com/", 0.2),
            ("https://www.reddit.com/r/analytics/", 0.15),
            ("https://news.ycombinator.com/", 0.15),
        ],
    );
    let referral = with_referrers(
        channel(
            "Referral",
            "referral",
            0.06,
            1.1,
            &[("/", 2.0), ("/docs/getting-started", 1.0), ("/features", 1.0)],
        ),
        &[
            ("https://dev.to/growth/self-hosted-analytics", 0.3),
            ("https://www.producthunt.com/products/numu", 0.25),
            ("https://www.g2.com/categories/web-analytics", 0.2),
            ("https://awesome-selfhosted.net/tags/analytics.html", 0.15),
            ("https://alternativeto.net/software/google-analytics/", 0.1),
        ],
    );
    let mut paid_search_channel = channel("Paid Search", "paid", 0.14, 1.0, &[]);
    paid_search_channel.campaigns = paid_search();
    let mut paid_social_channel = channel("Paid Social", "paid", 0.12, 1.0, &[]);
    paid_social_channel.campaigns = paid_social();
    let mut email_channel = channel("Email", "email", 0.08, 1.0, &[]);
    email_channel.campaigns = email();
    vec![
        channel(
            "Direct",
            "direct",
            0.22,
            1.0,
            &[("/", 6.0), ("/pricing", 2.0), ("/docs/getting-started", 1.0)],
        ),
        organic_search,
        paid_search_channel,
        organic_social,
        paid_social_channel,
        email_channel,
        referral,
    ]
}

/// A test of the pricing page's call to action: the treatment lifts signups by 15 %.
pub fn experiment() -> ExperimentConfig {
    ExperimentConfig {
        key: "pricing-cta".into(),
        exposure_path: "/pricing".into(),
        exposure_share: 0.3,
        variants: vec![
            VariantConfig { name: "control".into(), weight: 0.5, lift: 0.0 },
            VariantConfig { name: "treatment".into(), weight: 0.5, lift: 0.15 },
        ],
    }
}

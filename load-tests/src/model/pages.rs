//! The simulated site: its pages, their titles and heights, and the buttons on them (where
//! clicks concentrate). Button positions are given for a desktop layout; phones stack the
//! same buttons in a narrower, taller page.

/// A clickable element: centre at `x` (fraction of the viewport width) and `y` (px from the
/// top of the desktop document), its size, and how often it is clicked relative to the
/// page's other buttons.
#[derive(Clone, Copy, Debug)]
pub struct Button {
    pub sel: &'static str,
    pub text: &'static str,
    pub x: f64,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub weight: f64,
}

/// One page of the site.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub path: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    /// Document height on a desktop (px).
    pub height: u32,
    pub buttons: &'static [Button],
}

const fn button(
    sel: &'static str,
    text: &'static str,
    x: f64,
    y: u32,
    width: u32,
    height: u32,
    weight: f64,
) -> Button {
    Button { sel, text, x, y, width, height, weight }
}

const NAV: [Button; 3] = [
    button("nav.top>a#nav-pricing", "Pricing", 0.62, 32, 80, 24, 1.0),
    button("nav.top>a#nav-docs", "Docs", 0.7, 32, 60, 24, 0.6),
    button("nav.top>a.btn-signup", "Start free", 0.86, 32, 120, 40, 1.2),
];

const HOME: &[Button] = &[
    NAV[0],
    NAV[1],
    NAV[2],
    button("section.hero a.cta-primary", "Start free", 0.42, 520, 220, 56, 4.0),
    button("section.hero a.cta-secondary", "See a demo", 0.6, 520, 200, 56, 1.5),
    button("section.features a.more", "All features", 0.5, 1450, 160, 40, 0.8),
];
const PRICING: &[Button] = &[
    NAV[1],
    button("div.plan-starter>button.buy", "Choose Starter", 0.27, 760, 200, 48, 2.0),
    button("div.plan-pro>button.buy", "Choose Pro", 0.5, 760, 200, 48, 3.0),
    button("div.plan-business>button.buy", "Contact sales", 0.73, 760, 200, 48, 1.0),
    button("section.faq>details>summary", "FAQ", 0.5, 1500, 600, 40, 1.2),
];
const ARTICLE: &[Button] = &[
    NAV[0],
    NAV[2],
    button("article a.inline-cta", "Try Numu free", 0.5, 1800, 240, 48, 1.5),
    button("aside.toc>a", "Table of contents", 0.15, 400, 180, 24, 1.0),
    button("footer a.newsletter", "Subscribe", 0.5, 2850, 180, 44, 0.5),
];
const FEATURES: &[Button] = &[
    NAV[0],
    NAV[2],
    button("section.grid>div.card>a", "Learn more", 0.35, 900, 140, 32, 2.0),
    button("section.grid>div.card>a", "Learn more", 0.65, 900, 140, 32, 1.5),
    button("section.cta a.cta-primary", "Start free", 0.5, 2100, 220, 56, 2.0),
];
const LANDING: &[Button] = &[
    button("section.hero form>button[type=submit]", "Get started", 0.5, 610, 260, 56, 5.0),
    button("section.proof a.case-study", "Read the case study", 0.5, 1300, 220, 40, 1.0),
];
const SIGNUP: &[Button] = &[
    button("form#signup>input[name=email]", "", 0.5, 360, 360, 44, 1.5),
    button("form#signup>button[type=submit]", "Create account", 0.5, 520, 360, 48, 4.0),
    button("form#signup a.sso-google", "Continue with Google", 0.5, 600, 360, 44, 1.0),
];
const APP: &[Button] = &[
    button("aside.sidebar>a#nav-insights", "Insights", 0.07, 180, 160, 32, 2.0),
    button("aside.sidebar>a#nav-funnels", "Funnels", 0.07, 220, 160, 32, 1.5),
    button("main button.new-insight", "New insight", 0.88, 96, 140, 36, 2.5),
    button("main div.chart", "", 0.55, 420, 900, 320, 1.0),
];
const CHECKOUT: &[Button] = &[
    button("form#checkout>input[name=card]", "", 0.4, 420, 420, 44, 1.5),
    button("form#checkout>button.pay", "Pay now", 0.4, 640, 420, 52, 4.0),
    button("aside.summary a.coupon", "Have a coupon?", 0.78, 380, 160, 24, 0.6),
];

const fn page(
    path: &'static str,
    name: &'static str,
    title: &'static str,
    height: u32,
    buttons: &'static [Button],
) -> Page {
    Page { path, name, title, height, buttons }
}

/// Every page of the site.
pub const PAGES: &[Page] = &[
    page("/", "Home", "Numu — growth analytics you host yourself", 3200, HOME),
    page("/pricing", "Pricing", "Pricing — Numu", 2400, PRICING),
    page("/features", "Features", "Features — Numu", 2800, FEATURES),
    page("/features/funnels", "Funnels", "Funnels and retention — Numu", 2600, FEATURES),
    page("/features/experiments", "Experiments", "A/B testing — Numu", 2600, FEATURES),
    page("/customers", "Customers", "Customer stories — Numu", 3000, FEATURES),
    page("/about", "About", "About us — Numu", 3400, ARTICLE),
    page("/blog/what-is-a-funnel", "Blog post", "What is a conversion funnel? — Numu blog", 4200, ARTICLE),
    page(
        "/blog/utm-parameters-guide",
        "Blog post",
        "The complete guide to UTM parameters — Numu blog",
        5200,
        ARTICLE,
    ),
    page("/blog/retention-curves", "Blog post", "Reading retention curves — Numu blog", 3800, ARTICLE),
    page("/blog/ab-testing-pitfalls", "Blog post", "Seven A/B testing pitfalls — Numu blog", 4600, ARTICLE),
    page("/docs/getting-started", "Docs", "Getting started — Numu docs", 3400, ARTICLE),
    page("/docs/snippet", "Docs", "The tracking snippet — Numu docs", 3000, ARTICLE),
    page("/lp/analytics", "Landing", "Analytics without the data leaving your servers", 2200, LANDING),
    page("/signup", "Sign up", "Create your account — Numu", 1100, SIGNUP),
    page("/login", "Log in", "Log in — Numu", 900, SIGNUP),
    page("/app/onboarding", "Onboarding", "Set up your first project — Numu", 1400, APP),
    page("/app/dashboard", "Dashboard", "Dashboard — Numu", 1600, APP),
    page("/app/insights", "Insights", "Insights — Numu", 1800, APP),
    page("/checkout", "Checkout", "Checkout — Numu", 1300, CHECKOUT),
    page("/checkout/success", "Order confirmed", "Thank you — Numu", 900, &[]),
];

/// Pages visitors browse between, with weights.
pub const BROWSE: &[(&str, f64)] = &[
    ("/", 3.0),
    ("/pricing", 3.0),
    ("/features", 2.5),
    ("/features/funnels", 1.2),
    ("/features/experiments", 1.0),
    ("/customers", 1.0),
    ("/about", 0.6),
    ("/blog/what-is-a-funnel", 1.0),
    ("/blog/utm-parameters-guide", 0.8),
    ("/blog/retention-curves", 0.8),
    ("/docs/getting-started", 1.2),
    ("/docs/snippet", 0.8),
];

/// Pages signed-in users browse.
pub const APP_BROWSE: &[(&str, f64)] =
    &[("/app/dashboard", 3.0), ("/app/insights", 2.0), ("/docs/snippet", 0.5)];

/// A generic page for paths outside the catalogue.
const OTHER: Page = page("/", "Page", "Numu", 3200, ARTICLE);

/// The page at `path` (a generic page when unknown).
pub fn find(path: &str) -> &'static Page {
    PAGES.iter().find(|p| p.path == path).unwrap_or(&OTHER)
}

/// The page's button at document coordinates for a viewport `vw` wide: (x px, y px, w, h).
/// Phones (< 768 px) stack buttons: x pulled to the middle, the page 1.9 times taller.
pub fn place(button: &Button, vw: u32) -> (f64, f64, f64, f64) {
    let vw = f64::from(vw);
    if vw < 768.0 {
        let x = (0.5 + (button.x - 0.5) * 0.35) * vw;
        let width = f64::from(button.width).min(vw * 0.9);
        (x, f64::from(button.y) * 1.9, width, f64::from(button.height))
    } else {
        (button.x * vw, f64::from(button.y), f64::from(button.width), f64::from(button.height))
    }
}

/// The document height for a viewport `vw` wide.
pub fn height(page: &Page, vw: u32) -> u32 {
    if vw < 768 {
        page.height * 19 / 10
    } else {
        page.height
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browse_pages_and_buttons_are_on_the_page() {
        for (path, _) in BROWSE.iter().chain(APP_BROWSE) {
            assert_eq!(find(path).path, *path, "{path} is not in the catalogue");
        }
        for page in PAGES {
            for button in page.buttons {
                for vw in [390, 1440] {
                    let (x, y, _, _) = place(button, vw);
                    assert!(x > 0.0 && x < f64::from(vw), "{} {}", page.path, button.sel);
                    assert!(y < f64::from(height(page, vw)), "{} {}", page.path, button.sel);
                }
            }
        }
    }
}

//! Deterministic, realistic demo data for `rapport demo`.
//!
//! [`generate`] invents ninety days of conversations between the public and **Lumen**, a
//! made-up maker of smart home lighting (bulbs, light strips, a hub, sensors, switches)
//! and its app. People write on Bluesky, Mastodon, the blog's comment feed (`rss`) and
//! the website's contact form (`webhook`); Lumen's agents reply, acknowledge
//! automatically, broadcast announcements and tips, and resolve conversations.
//!
//! What the data contains, so that every screen of the demo has something to show:
//! - about 24,000 messages from about 6,000 people, heavier on weekdays and in the
//!   daytime, with volume growing over the period;
//! - complaints, questions, praise, ideas, sales leads, spam and chatter, built from many
//!   templates, products, issues and details (emoji, ALL CAPS, @mentions, hashtags and a
//!   little French, German, Spanish, Dutch and Portuguese);
//! - one incident: the day firmware 4.2 knocked lights offline, with a burst of
//!   complaints, several of them from authors with hundreds of thousands of followers and
//!   a pile-on of replies;
//! - replies from named agents after business-hours-ish delays, automated
//!   acknowledgements within seconds, follow-ups, second replies, unanswered messages,
//!   resolutions and conversations reopened after they were resolved;
//! - repeat customers, advocates who praise often, and a few people with an account on
//!   both Bluesky and Mastodon under the same name.
//!
//! Everything is drawn from a ChaCha8 generator seeded with the caller's seed and uses
//! only integer and basic floating-point arithmetic (no `ln`/`exp`), so the same seed and
//! the same `now` give byte-identical output on every machine.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_core::model::{Direction, Intent, NewMessage};

/// The generated demo data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    /// Every message, inbound and outbound, in `created_at` order. A reply always comes
    /// after the message it replies to.
    pub messages: Vec<NewMessage>,
    /// Conversations the team closed, in time order. A conversation reopened by a later
    /// inbound message may be resolved again, so a root can appear more than once.
    pub resolutions: Vec<Resolution>,
    /// The organisation's own accounts, one per platform, in the order bluesky,
    /// mastodon, rss, webhook. Broadcasts and automated acknowledgements are written by
    /// these; human replies are written by the agent's name (`ana`, `marco`, ...).
    pub org_accounts: Vec<String>,
}

/// A conversation that an agent marked resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The platform of the conversation.
    pub platform: String,
    /// The platform id of the conversation's first message.
    pub root_platform_id: String,
    /// When it was resolved.
    pub at: DateTime<Utc>,
    /// The agent who resolved it (the one who replied last).
    pub actor: String,
}

/// Generates the demo data set for `seed`, covering the 90 days before `now`.
///
/// Every timestamp is at least a minute after `now − 90 days` and strictly before
/// `now`. The same `seed` and `now` always give the same data.
pub fn generate(seed: u64, now: DateTime<Utc>) -> DemoData {
    build(seed, now).0
}

/// Generates the data set and, beside each message, the intent it was written with
/// (`None` for outbound messages). The labels are what the tests check against.
fn build(seed: u64, now: DateTime<Utc>) -> (DemoData, Vec<Option<Intent>>) {
    let mut g = Gen::new(seed, now);
    g.make_people();
    g.make_roots();
    g.make_notables();
    g.make_broadcasts();
    g.finish()
}

// ---------------------------------------------------------------------------------------
// Fixed vocabulary
// ---------------------------------------------------------------------------------------

/// The platforms the demo covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    /// Bluesky (AT Protocol).
    Bluesky,
    /// Mastodon (ActivityPub).
    Mastodon,
    /// Comments on the blog, read from its RSS feed.
    Rss,
    /// The website's contact form, posted to the inbound webhook.
    Webhook,
}

impl Platform {
    /// Lowercase platform name as stored.
    fn name(self) -> &'static str {
        match self {
            Platform::Bluesky => "bluesky",
            Platform::Mastodon => "mastodon",
            Platform::Rss => "rss",
            Platform::Webhook => "webhook",
        }
    }

    /// The organisation's own handle on the platform.
    fn org_handle(self) -> &'static str {
        match self {
            Platform::Bluesky => "lumen.bsky.social",
            Platform::Mastodon => "lumen@mastodon.social",
            Platform::Rss => "lumen.example",
            Platform::Webhook => "support@lumen.example",
        }
    }

    /// How people refer to the organisation in text on the platform.
    fn org_mention(self) -> &'static str {
        match self {
            Platform::Bluesky => "@lumen.bsky.social",
            Platform::Mastodon => "@lumen@mastodon.social",
            Platform::Rss | Platform::Webhook => "Lumen",
        }
    }

    /// The organisation account's follower count, where the platform has followers.
    fn org_followers(self) -> Option<u64> {
        match self {
            Platform::Bluesky => Some(48_210),
            Platform::Mastodon => Some(12_904),
            Platform::Rss | Platform::Webhook => None,
        }
    }

    /// Whether the platform has followers, mentions and public posts.
    fn is_social(self) -> bool {
        matches!(self, Platform::Bluesky | Platform::Mastodon)
    }
}

/// Every platform, in the order of `org_accounts`.
const PLATFORMS: [Platform; 4] = [
    Platform::Bluesky,
    Platform::Mastodon,
    Platform::Rss,
    Platform::Webhook,
];

/// The organisation's DID on Bluesky.
const ORG_DID: &str = "did:plc:l7umxn4hq2vbr5kt3ewdp6sa";

impl Team {
    /// How the team signs its name.
    fn label(self) -> &'static str {
        match self {
            Team::Care => "Support",
            Team::Sales => "Sales",
            Team::Product => "Product",
            Team::Comms => "Comms",
        }
    }
}

/// Which team an agent belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Team {
    /// Customer care.
    Care,
    /// Sales.
    Sales,
    /// Product management.
    Product,
    /// Communications.
    Comms,
}

/// Lumen's agents: handle, display name, team.
const AGENTS: &[(&str, &str, Team)] = &[
    ("ana", "Ana", Team::Care),
    ("ben", "Ben", Team::Care),
    ("chloe", "Chloé", Team::Care),
    ("dmitri", "Dmitri", Team::Care),
    ("emeka", "Emeka", Team::Care),
    ("fatima", "Fatima", Team::Care),
    ("gus", "Gus", Team::Care),
    ("hana", "Hana", Team::Care),
    ("jo", "Jo", Team::Care),
    ("kai", "Kai", Team::Care),
    ("marco", "Marco", Team::Sales),
    ("sofia", "Sofia", Team::Sales),
    ("priya", "Priya", Team::Product),
    ("maya", "Maya", Team::Comms),
];

/// The demo's teams as `rapport.toml` names them, each with its agents' handles.
pub fn teams() -> Vec<(&'static str, Vec<&'static str>)> {
    [
        ("care", Team::Care),
        ("comms", Team::Comms),
        ("sales", Team::Sales),
        ("product", Team::Product),
    ]
    .into_iter()
    .map(|(name, team)| {
        let members = AGENTS
            .iter()
            .filter(|(_, _, t)| *t == team)
            .map(|(handle, _, _)| *handle)
            .collect();
        (name, members)
    })
    .collect()
}

/// Care agents on the weekday early shift (before 14:00 UTC).
const EARLY_SHIFT: &[usize] = &[0, 1, 2, 3];
/// Care agents on the weekday late shift.
const LATE_SHIFT: &[usize] = &[4, 5, 6, 7];
/// Care agents working weekends.
const WEEKEND_SHIFT: &[usize] = &[8, 9];
/// The sales team, who answer leads.
const SALES: &[usize] = &[10, 11];
/// The product manager, who answers most ideas.
const PRODUCT: usize = 12;
/// The comms lead, who answers high-reach complaints at once.
const COMMS: usize = 13;

/// Product categories, which decide the issues a product can have.
#[derive(Debug, Clone, Copy)]
enum Cat {
    /// Bulbs and lamps.
    Bulb,
    /// Light strips.
    Strip,
    /// Hubs.
    Hub,
    /// The app.
    App,
    /// Sensors.
    Sensor,
    /// Switches and plugs.
    Switch,
}

/// What Lumen sells: name as people write it, and its category.
const PRODUCTS: &[(&str, Cat)] = &[
    ("A19 bulb", Cat::Bulb),
    ("E14 candle bulb", Cat::Bulb),
    ("GU10 spot", Cat::Bulb),
    ("filament bulb", Cat::Bulb),
    ("Glow lamp", Cat::Bulb),
    ("desk lamp", Cat::Bulb),
    ("ceiling panel", Cat::Bulb),
    ("Lightstrip", Cat::Strip),
    ("Lightstrip Plus", Cat::Strip),
    ("outdoor strip", Cat::Strip),
    ("Hub", Cat::Hub),
    ("Hub Mini", Cat::Hub),
    ("app", Cat::App),
    ("Android app", Cat::App),
    ("iOS app", Cat::App),
    ("motion sensor", Cat::Sensor),
    ("door sensor", Cat::Sensor),
    ("dimmer switch", Cat::Switch),
    ("smart plug", Cat::Switch),
];

/// Weights for picking a product (bulbs and the app come up most).
const PRODUCT_WEIGHTS: &[u32] = &[16, 6, 6, 4, 5, 3, 2, 8, 4, 3, 9, 5, 10, 3, 3, 3, 2, 4, 3];

/// What goes wrong with bulbs and lamps (verb phrases: "my bulb …").
const ISSUES_BULB: &[&str] = &[
    "keeps disconnecting",
    "flickers at low brightness",
    "won't pair anymore",
    "shows as unreachable",
    "resets to bright white after every power cut",
    "buzzes when dimmed",
    "turns on by itself in the middle of the night",
    "is stuck blinking",
    "changes colour on its own",
    "died after two weeks",
    "won't dim below 30%",
    "takes ten seconds to respond",
];
/// What goes wrong with light strips.
const ISSUES_STRIP: &[&str] = &[
    "only lights up halfway",
    "shows all the wrong colours",
    "fell off the wall, the adhesive is useless",
    "keeps disconnecting",
    "won't sync in music mode",
    "flickers red",
    "has a dead section in the middle",
];
/// What goes wrong with hubs.
const ISSUES_HUB: &[&str] = &[
    "drops off the wifi every night",
    "won't update",
    "is stuck on a blinking red light",
    "lost all my scenes",
    "runs really hot",
    "keeps rebooting",
    "can't find any of my bulbs",
    "went offline and won't come back",
];
/// What goes wrong with the app.
const ISSUES_APP: &[&str] = &[
    "crashes on launch",
    "logs me out every day",
    "won't let me sign in",
    "drains my battery",
    "lost all my rooms",
    "is so slow",
    "shows every light as offline",
    "doesn't fire my schedules",
    "won't show the widget anymore",
    "keeps asking me to re-pair everything",
];
/// What goes wrong with sensors.
const ISSUES_SENSOR: &[&str] = &[
    "doesn't trigger half the time",
    "eats batteries",
    "triggers when nobody is there",
    "shows offline",
    "takes ages to react",
];
/// What goes wrong with switches and plugs.
const ISSUES_SWITCH: &[&str] = &[
    "doesn't respond",
    "double-triggers",
    "lost its pairing",
    "clicks but nothing happens",
    "turns everything off at random",
];

/// The issues a product category can have.
fn issues(cat: Cat) -> &'static [&'static str] {
    match cat {
        Cat::Bulb => ISSUES_BULB,
        Cat::Strip => ISSUES_STRIP,
        Cat::Hub => ISSUES_HUB,
        Cat::App => ISSUES_APP,
        Cat::Sensor => ISSUES_SENSOR,
        Cat::Switch => ISSUES_SWITCH,
    }
}

/// Optional trailing details; each starts with a space.
const DETAILS: &[&str] = &[
    " since the last app update",
    " for three days now",
    " every single night",
    " and I've already factory reset it twice",
    " and support hasn't replied",
    " right in the middle of a dinner party",
    " ever since I added a second hub",
    " even after unplugging everything",
    " and the help page is no help",
    " on both our phones",
    " in every room",
    " since I moved house",
    " since yesterday",
    " after a week of working fine",
    " whenever the microwave is on",
];
/// Details that only make sense after the firmware 4.2 incident.
const DETAILS_AFTER_INCIDENT: &[&str] = &[
    " since the 4.2 firmware",
    " ever since the 4.2 update",
    " even after 4.2.1",
];

/// Stand-alone sentences for complaints.
const SENTENCES: &[&str] = &[
    "Tried resetting it twice, still not working.",
    "No reply from support in four days.",
    "Already re-paired it three times, still broken.",
    "The app just says 'try again later'.",
    "Wifi is fine, everything else works.",
    "It's brand new and already faulty.",
    "I've followed every step in the help centre and it's still not working.",
    "Really disappointed for the price.",
    "My whole routine depends on it.",
    "Third time this month.",
];

/// Short angry sentences.
const ANGRY: &[&str] = &[
    "Unacceptable.",
    "Not good enough.",
    "So frustrating.",
    "Come on!",
    "Sort it out.",
    "Ridiculous.",
    "Really disappointed.",
    "Fed up.",
    "What a joke.",
    "Worst smart home purchase ever.",
];

/// Negative emoji, each with a leading space.
const EMOJI_NEG: &[&str] = &[
    " 😡", " 😤", " 🙄", " 😩", " 🤬", " 😞", " 💀", " 😠", " 😒", " 👎",
];
/// Positive emoji, each with a leading space.
const EMOJI_POS: &[&str] = &[
    " 😍", " 💡", " ✨", " 🙌", " ❤️", " 👏", " 🥰", " 🔥", " 😊", " 💛",
];

/// Competing brands people compare Lumen with.
const COMPETITORS: &[&str] = &[
    "Philips Hue",
    "LIFX",
    "Nanoleaf",
    "Govee",
    "IKEA Tradfri",
    "WiZ",
];
/// Smart home ecosystems people ask about.
const ECOSYSTEMS: &[&str] = &[
    "HomeKit",
    "Google Home",
    "Alexa",
    "Home Assistant",
    "SmartThings",
    "Matter",
    "IFTTT",
];
/// App features people ask for.
const FEATURES: &[&str] = &[
    "a sunrise schedule",
    "a vacation mode",
    "a dark mode",
    "Home Assistant integration",
    "an Apple Watch app",
    "geofencing for the whole family",
    "circadian lighting",
    "a widget for scenes",
    "export of my schedules",
    "per-bulb energy stats",
    "a sleep timer",
    "a party mode synced to Spotify",
    "offline control without the cloud",
    "shared access for guests",
    "sunset schedules that follow the seasons",
    "a physical remote",
    "scene folders",
];
/// Hardware features people wish for.
const HW_FEATURES: &[&str] = &[
    "a higher max brightness",
    "a warmer 1800K setting",
    "a battery backup",
    "a longer cable",
    "a matte black finish",
    "USB-C power",
    "a physical on/off button",
];
/// Things people would like the app to let them do.
const ACTIONS: &[&str] = &[
    "group lights by floor",
    "copy a scene to another room",
    "schedule by sunrise and sunset",
    "set a default colour after power cuts",
    "name scenes with emoji",
    "fade lights out over 30 minutes",
    "lock the kids' room lights",
    "see which light is which by flashing it",
];
/// Countries people ask about shipping to or sell in.
const COUNTRIES: &[&str] = &[
    "Ireland",
    "Canada",
    "Australia",
    "Norway",
    "Portugal",
    "New Zealand",
    "Poland",
    "Mexico",
    "Japan",
    "South Africa",
    "Iceland",
];
/// Rooms of a home.
const ROOMS: &[&str] = &[
    "living room",
    "bedroom",
    "kitchen",
    "hallway",
    "office",
    "kids' room",
    "porch",
    "bathroom",
    "garden",
];
/// Trade shows where Lumen exhibits.
const EVENTS: &[&str] = &[
    "CES",
    "IFA",
    "the Smart Home Expo",
    "the design museum pop-up",
];
/// Link prefixes spammers use.
const SPAM_URLS: &[&str] = &[
    "bit.ly/",
    "free-follows.xyz/",
    "tinyurl.com/",
    "gr8-deals.shop/",
    "x-boost.top/",
];
/// Prices people quote when they complain.
const PRICES: &[&str] = &["£60", "€45", "$49", "€79", "$120", "£35"];
/// Hashtags appended to some posts, each with a leading space.
const HASHTAGS: &[&str] = &[
    " #smarthome",
    " #homeautomation",
    " #LumenLights",
    " #HomeKit",
    " #cosy",
];

/// Complaints about a product that misbehaves.
const COMPLAINT_DEVICE: &[&str] = &[
    "my Lumen {p} {i}{d}. so frustrating{eneg}",
    "{org} my {p} {i}{d}.{eneg}",
    "Anyone else's Lumen {p} {i}? {s}",
    "{P} {i} AGAIN.{eneg} {angry}",
    "Third replacement {x} and it still {i}. Faulty again. I'm done.{eneg}",
    "paid good money for a {x} that {i}. {angry}",
    "{org} your {p} {i}{d}. Clearly broken, fix it please{eneg}",
    "hey {org}, my {p} {i}. tried everything. ticket {ticket}, no reply",
    "Worst purchase this year: the Lumen {x}. It {i}{d}. #LumenFail",
    "my {p} {i}{d}{eneg} #smarthome",
    "Why does my {p} {i}?? {s} This is ridiculous",
    "Honestly disappointed. My {p} {i}{d} and the chat bot just loops{eneg}",
    "I've been a fan for years but this problem with the {p} is too much: it {i}{d}. Thinking of switching to {comp}.",
    "day {days} of my {p} that {i}. still no reply from support{eneg}",
    "never had this with {comp}. Lumen {p} {i}{d}.{eneg}",
    "{org} {P} {I}!!!{eneg}",
    "so the {x} in the {room} {i}{d}. {angry}",
    "the {x} {i} and the app just says 'try again later'. {angry}{eneg}",
    "Trying to love my Lumen setup but the {p} {i}{d}. {s}",
    "{org} is there a fix coming for this bug? my {p} {i}{d}",
    "Came home to a dark {room} because the {p} {i}.{eneg}",
    "ugh. {p} {i}. again.{eneg}",
    "Not happy with the {p}: it {i}{d}. {s}",
    "{org} {s} My {p} {i}. What now?",
    "{price} for a {x} that {i}? {angry}",
    "Returning my {x}. It {i}{d}. Waste of money.{eneg}",
    "Having issues with my {p}: it {i} every time the wifi hiccups. Surely that's not normal?",
    "2 out of {ns} of my {ls} {i}{d}.{eneg}",
    "broken again: the {p} {i}. {angry}",
    "{org} my {p} stopped working{d}.{eneg}",
    "the {p} is not working again and support isn't answering. {angry}",
    "Is it just me or is the {p} totally broken{d}?",
];

/// Complaints about orders, deliveries, refunds and billing.
const COMPLAINT_ORDER: &[&str] = &[
    "still waiting on my refund, {w} weeks now.{eneg}",
    "{org} still waiting on my refund for order {order}. {w} weeks.{eneg} {angry}",
    "Ordered a {x} {days} days ago and it still hasn't shipped. Still waiting {org}",
    "was charged twice for my {x} order ({order}) and nobody answers the phone{eneg}",
    "delivery says delivered but the {x} never arrived. order {order}{eneg}",
    "return label never arrived for my {x}, order {order}, {w} weeks now",
    "{org} cancelled my order {order} without telling me?? {angry}",
    "my {x} arrived broken, the case is cracked. {angry}",
    "Paid for express shipping, the {x} took {days} days. {angry}",
    "{org} how long does a refund actually take? {w} weeks and counting{eneg}",
    "The replacement {x} you sent is the wrong model. {angry}",
    "support closed my ticket {ticket} without fixing anything, and no reply since{eneg}",
    "3 emails, 2 chats, no response about order {order}. {angry}",
    "Got an invoice for a {x} I never ordered. {org} please explain",
    "I want to cancel my subscription and there's no way to do it in the app.{eneg}",
];

/// Complaints on the day firmware 4.2 knocked lights offline.
const COMPLAINT_INCIDENT: &[&str] = &[
    "after firmware 4.2 my {x} keeps disconnecting{eneg}",
    "4.2 update bricked my hub?? {org}{eneg}",
    "every light in the house went offline after last night's update {org}{eneg}",
    "what happened with the update? all my bulbs are unreachable. outage? #LumenDown",
    "LUMEN IS DOWN? app says every light is offline{eneg}",
    "ok the 4.2 update broke my {x}. anyone know how to roll back?",
    "woke up to all lights at 100% at 5am after the firmware update. thanks {org} 🙃",
    "{org} 4.2 broke my schedules. none of them fired this morning{eneg}",
    "is Lumen down? {nb} bulbs showing offline since the update",
    "firmware 4.2: {l} flashing red, hub won't see it. {angry}",
    "Who tested 4.2?? Half my house is dark. Broken update.{eneg} #LumenFail",
    "{org} PLEASE fix the broken update. my kids' night lights didn't come on{eneg}",
    "still no lights in the {room} after the 4.2 mess.{eneg}",
    "the update reset all my scenes and now the {x} won't pair. {angry}",
    "{org} my {x} has been unreachable since 4.2 went out. {angry}",
    "so the 4.2 update means I'm now reading by phone torch. great{eneg}",
];

/// Incident complaints in German, French, Spanish and Dutch.
const COMPLAINT_INCIDENT_FOREIGN: &[&str] = &[
    "Nach dem Update 4.2 sind alle meine Lampen offline. {org} was ist da los?{eneg}",
    "Depuis la mise à jour 4.2, plus aucune lampe ne répond 😤 {org}",
    "Desde la actualización 4.2 mis luces no funcionan {org}{eneg}",
    "Sinds de 4.2-update doet geen enkele lamp het meer. {org}{eneg}",
];

/// Questions, each with the answer an agent gives to it.
const QUESTIONS: &[(&str, &str)] = &[
    (
        "does the Lumen {x} work with {eco}?",
        "Yes! It works with HomeKit, Google Home, Alexa and Home Assistant through the Hub, and with Matter directly.",
    ),
    (
        "{org} can the {x} run on a 2.4GHz-only network?",
        "Yes, all our devices use 2.4GHz, so you're all set.",
    ),
    (
        "how do I reset my {x}? the manual isn't clear",
        "Sorry about the manual! Switch it off and on 5 times, 2 seconds apart, until it blinks twice. Full steps: lumen.example/help/reset",
    ),
    (
        "is there a way to group lights across rooms in the app?",
        "Yes: Settings → Zones lets you group lights from different rooms.",
    ),
    (
        "quick q: will the {l} work without the hub?",
        "It works over Bluetooth without the Hub, but you'll need the Hub for schedules and control away from home.",
    ),
    (
        "Anyone know if Lumen ships to {country}?",
        "We ship to most of Europe, North America and Oceania: lumen.example/shipping has the full list.",
    ),
    (
        "what's the warranty on the {x}? {org}",
        "Warranty is 2 years on all our products, 3 if you register it in the app.",
    ),
    (
        "Can I use the {l} outdoors?",
        "Only the outdoor strip is weatherproof (IP65), so keep indoor lights indoors.",
    ),
    (
        "{org} does the app support {feature} yet?",
        "Not yet, but it's on our roadmap! We'll shout when it lands.",
    ),
    (
        "how many bulbs can one hub handle?",
        "Up to 50 lights per Hub, and you can add a second Hub for more.",
    ),
    (
        "is the {x} compatible with {eco}? thinking of buying a few",
        "It is! Pair it with the Hub and it shows up in your smart home app within a minute.",
    ),
    (
        "where do I check the status of order {order}?",
        "You'll find it under Account → Orders, or DM us the order number and we'll check for you.",
    ),
    (
        "can I set the colour temperature of the {l} from {eco}?",
        "Yes, colour temperature and brightness both come through to your smart home app.",
    ),
    (
        "{org} is there a student discount?",
        "There is! 15% off with a student email at lumen.example/students 🎓",
    ),
    (
        "Does the {x} support Matter?",
        "Yes, Matter support is live for every Lumen device made since 2022.",
    ),
    (
        "do I need a neutral wire for the dimmer switch?",
        "No neutral needed: the dimmer switch runs on a battery that lasts about 2 years.",
    ),
    (
        "How do I share my lights with my partner's phone? {org}",
        "Settings → Home → Invite member, and they'll get a link to join your home.",
    ),
    (
        "Will the {l} remember its last state after a power cut?",
        "You choose: Settings → Device → Power-on behaviour lets you pick last state, warm white or off.",
    ),
    (
        "{org} when is the {x} back in stock?",
        "It's back next week in most regions. Sign up on the product page and we'll email you.",
    ),
    (
        "Is the {l} dimmable with a normal wall dimmer?",
        "We don't recommend wall dimmers with smart bulbs: the app or our dimmer switch give flicker-free dimming.",
    ),
    (
        "Any Home Assistant users running the {x}? Local control or cloud?",
        "Both work! Our Home Assistant integration uses local control by default since 4.0.",
    ),
    (
        "How do I move my {x} to a new wifi network without losing my scenes?",
        "Change the wifi on the Hub (Settings → Hub → Network) and all your lights and scenes come along.",
    ),
    (
        "{org} can I add the {l} to an existing scene without re-creating it?",
        "Yes: open the scene, tap Edit, then Add lights.",
    ),
    (
        "What's the difference between the Hub and the Hub Mini?",
        "The Hub Mini handles up to 20 lights over wifi; the Hub does 50 and has an Ethernet port too.",
    ),
    (
        "is there an API? want to hook my {x} up to a little script",
        "There is! Local REST API docs at developers.lumen.example 🛠️",
    ),
    (
        "how long does the {l} last? thinking about a {room} refit",
        "Our bulbs are rated for 25,000 hours, about 20 years at 3 hours a day.",
    ),
];

/// Praise.
const PRAISE: &[&str] = &[
    "love my new Lumen {x}!{epos}",
    "shoutout to {agent} at {org} support, sorted my {x} in 5 minutes{epos}",
    "the sunrise mode on the {l} has changed my mornings, love it{epos}",
    "Lumen {x} + {eco} = perfect{epos}",
    "honestly the best smart lighting I've owned. {P} just works.",
    "just set up {ns} {ls} in under half an hour. Impressed! #smarthome",
    "thanks {org} for the quick replacement{epos}",
    "the new app update is so smooth, great job team{epos}",
    "my kids love the colour changing {l}{epos}",
    "Can't recommend Lumen enough. Great {x}, great support.",
    "the {l} looks gorgeous in the {room}{epos} #cosy",
    "bought my mum a Lumen {l} and she loves it{epos}",
    "AMAZING customer service from Lumen today!!{epos}",
    "{org} you folks are amazing. the {x} arrived a day early{epos}",
    "Warm light in the {room}, rain outside, Lumen {l} doing its thing. Bliss{epos}",
    "Switched from {comp} to Lumen and not looking back{epos}",
    "two years in and my {x} has never dropped once. Excellent.",
    "Props to the Lumen team for actually listening to feedback{epos}",
    "the {x} was worth every penny{epos}",
    "setup took 2 minutes. TWO. well done {org}{epos}",
    "Really impressed by how quickly {org} fixed the issue I had{epos}",
    "the energy report in the app is genuinely useful, saved a bit this month{epos}",
    "thank you {org}, the {l} makes winter mornings bearable{epos}",
];

/// Ideas and feature requests.
const IDEAS: &[&str] = &[
    "would be great if the app had {feature}",
    "{org} feature request: {feature} please!",
    "I wish the {l} had {hwf}",
    "idea: let us {act}",
    "please add {feature} to the app 🙏",
    "would love to see {feature}, would buy more {ls} if so",
    "suggestion for Lumen: {act}. would make the {p} so much better",
    "dear {org}, {feature} when? 😅",
    "It would be great if we could {act} in the Lumen app",
    "{org} have you thought about {feature}? the {x} would be perfect for it",
    "Feature idea for the {l}: {hwf}. Take my money.",
    "Would love to see an option to {act}. {org}",
    "feature request: {feature}. pls pls pls 🙏 {org}",
    "wishlist for Lumen: {feature}",
];

/// Sales leads.
const LEADS: &[&str] = &[
    "we're fitting out {n} offices, who do I talk to about volume pricing?",
    "{org} do you do trade pricing? I'm an electrician doing {n} installs a year",
    "interested in the {l} for our hotel ({n} rooms). Can someone send a quote?",
    "Looking for a smart lighting partner for a {n}-unit apartment build. Do you have a sales team?",
    "is there a reseller programme for Lumen in {country}?",
    "we run {ns} cafés and want to standardise on Lumen. bulk pricing?",
    "I manage facilities for a school with {n} classrooms. Could we get pricing for the {l}?",
    "who handles enterprise deals at Lumen? need {n} {ls} by next quarter, can we get a quote?",
    "do you offer education pricing? we'd need about {n} units",
    "{org} we're an interior design studio, interested in a partnership. who should we contact?",
    "Need {n} {ls} for a co-working space fit-out. Can we get a quote by Friday?",
    "we're a property developer in {country}, looking for a lighting supplier for {n} homes. Is there a sales team I can talk to?",
    "hi {org}, we'd like to order {n} units for our offices in {country}. who handles bulk orders?",
];

/// Spam.
const SPAM: &[&str] = &[
    "free followers, click here 👉 {url}",
    "🔥 Get 10K followers today! click here {url}",
    "earn $500/day from home, DM me",
    "Crypto giveaway!!! send 0.1 ETH get 1 ETH back {url}",
    "Promote your brand to 2M users, DM for promo rates",
    "cheap Lumen bulbs 90% off!!! promo code LUMEN90 {url}",
    "I made $8,000 last week, make money fast with this one trick {url}",
    "Buy verified accounts and cheap followers, fast delivery {url}",
    "{org} Collab? We boost your page to 100k real fans 💯 check my profile",
    "💰💰 Passive income secrets: make money online 👉 {url}",
    "Congratulations! You have been selected for a 100% free iPhone 🎁 {url}",
    "Best SEO services, first page of Google guaranteed. Click here: {url}",
    "cheap Lumen bulbs here, nicest prices online {url}",
];

/// Chatter that needs no action.
const OTHER: &[&str] = &[
    "my cat has figured out the motion sensor 😹",
    "lights on red for the match tonight ⚽",
    "anyone using Lumen for a home studio setup? show me your rigs",
    "spent the whole evening making scenes instead of sleeping",
    "rainy sunday, warm light, good book ☕",
    "Lumen {l} vs {comp}, thoughts?",
    "saw the Lumen stand at {event}, nice demo",
    "{L} set to 2700K, fireplace video on, perfect",
    "my partner keeps changing the light colours from the office lol",
    "happy friday everyone, the {l} says it's party time 🎉",
    "the light turned blue when the doorbell rang. forgot I set that up 😂",
    "Moving house next week. Time to unscrew {ns} smart bulbs",
    "hot take: smart lighting is the only smart home thing that's actually worth it",
    "Does anyone else name their lights? Mine are named after Beatles songs",
    "testing the {l} as a wake-up light. report tomorrow",
    "{org} hello from {country}! 👋",
    "spent 20 minutes explaining to my dad that the lights are on an app",
    "the {room} finally feels finished with the {l} in it",
];

/// Complaints in other languages.
const FOREIGN_COMPLAINT: &[&str] = &[
    "Meine Lumen {x} verbindet sich ständig neu. Sehr ärgerlich.{eneg}",
    "Mon {x} Lumen ne se connecte plus depuis hier 😤",
    "Mi {x} de Lumen no funciona, ¿a alguien más le pasa?",
    "Mijn Lumen {x} blijft de verbinding verliezen.{eneg}",
    "A minha {x} Lumen parou de funcionar e ninguém responde.{eneg}",
];
/// Questions in other languages.
const FOREIGN_QUESTION: &[&str] = &[
    "Funktioniert die Lumen {x} mit HomeKit?",
    "Est-ce que le {x} Lumen fonctionne avec Google Home ?",
    "¿Lumen hace envíos a México?",
    "Werkt de {l} ook zonder hub?",
];
/// Praise in other languages.
const FOREIGN_PRAISE: &[&str] = &[
    "J'adore mes lampes Lumen !{epos}",
    "Super Service von Lumen, danke!{epos}",
    "¡Me encanta mi {l} de Lumen!{epos}",
    "Adoro as luzes da Lumen, recomendo!{epos}",
];
/// Chatter in other languages.
const FOREIGN_OTHER: &[&str] = &[
    "Guten Morgen! Licht an ☀️",
    "Bonne soirée à tous, ambiance tamisée ce soir ✨",
    "Buenas noches, luces cálidas y una peli 🍿",
];

/// How blog comments often begin.
const BLOG_PREFIXES: &[&str] = &[
    "Great post! ",
    "Thanks for the write-up. ",
    "Interesting read. ",
    "Nice article. ",
];
/// Extra sentences in contact-form messages (may be empty).
const WEBHOOK_EXTRAS: &[&str] = &[
    " My order number is {order}.",
    " I'd appreciate a call back.",
    " I've tried the steps in the help centre.",
    " I can send photos if that helps.",
    " This is my second message about it.",
    "",
];
/// How contact-form messages begin.
const WEBHOOK_GREETINGS: &[&str] = &["Hi Lumen team,", "Hello,", "Hi there,", "Dear Lumen,"];
/// How contact-form messages end, before the name.
const WEBHOOK_SIGNOFFS: &[&str] = &["Thanks,", "Kind regards,", "Cheers,", "Best,", "Thank you,"];

// Outbound replies (bodies; greetings and signatures are added per platform).
/// First replies to a complaint about a device.
const REPLY_DEVICE: &[&str] = &[
    "Sorry about this! Could you send us a DM with your {p}'s serial number? We'll get it sorted.",
    "Oh no, that's not what we want to hear. Can you power-cycle the {p} for 10 seconds and let us know if it comes back?",
    "Thanks for flagging. Which app version are you on? We'll dig in straight away.",
    "Really sorry. That sounds like a faulty unit: DM us your order number and we'll send a replacement.",
    "We hear you. Can you DM us your hub ID so our engineers can take a look?",
    "Sorry for the hassle! A reset (switch it off and on 5 times) usually fixes this. Shout if it doesn't.",
    "That's not right at all. I've opened a case for you, check your DMs 💬",
    "Sorry to hear that. Could you try moving the hub a little closer and re-pairing? Steps: lumen.example/help/pairing",
];
/// First replies to a complaint about the app.
const REPLY_APP: &[&str] = &[
    "Sorry about that! Could you log out and back in, and check you're on app 3.8? If it still happens, DM us your phone model.",
    "Thanks for flagging. Our app team is looking into this, could you DM us your app version and phone model?",
    "Sorry for the trouble! Deleting and reinstalling the app keeps your rooms and scenes, and usually clears this up.",
    "That's not right, sorry. A fix is in the next app update; in the meantime force-closing the app helps.",
];
/// First replies to a complaint about an order.
const REPLY_ORDER: &[&str] = &[
    "So sorry for the wait. Please DM us your order number and I'll chase this personally.",
    "That's far too long, apologies. I've escalated it to our billing team and you'll hear back within 24h.",
    "Sorry! I've checked and it's with the courier, tracking link in your DMs.",
    "Apologies for the mix-up. I've issued the refund today, it can take 3–5 working days to show.",
    "Sorry about this. Can you DM us your order number so I can look into it?",
];
/// First replies to an incident complaint.
const REPLY_INCIDENT: &[&str] = &[
    "We're really sorry. Firmware 4.2 caused some lights to drop off; a fix is on its way. Power-cycling the hub helps in the meantime.",
    "Sorry! This is a known issue with 4.2 and our engineers are on it. Updates on status.lumen.example",
    "Apologies, we know 4.2 broke things for some of you. 4.2.1 fixes it: Settings → Hub → Check for updates.",
    "So sorry for the disruption. Unplug the hub for 30 seconds and it'll pick up the 4.2.1 fix.",
];
/// Answers for questions without a specific answer (the foreign-language ones).
const REPLY_QUESTION: &[&str] = &[
    "Good question! The full steps are here: lumen.example/help",
    "Thanks for asking! I've sent you the details by DM.",
    "Yes, it does 🙂 Let us know if you need a hand setting it up.",
];
/// Replies to praise.
const REPLY_PRAISE: &[&str] = &[
    "Thank you so much! 💡",
    "This made our day, thank you!",
    "Love to hear it! Enjoy ✨",
    "Thanks for the kind words, I'll pass them on to the team!",
    "That looks amazing, thanks for sharing 😍",
];
/// Replies to ideas.
const REPLY_IDEA: &[&str] = &[
    "Love this idea! I've passed it to our product team.",
    "Thanks, we've logged this as a feature request. Watch this space 👀",
    "Great suggestion! It's something we're exploring.",
    "You're not the only one asking 🙂 I've added your vote to the request.",
];
/// First replies to sales leads.
const REPLY_LEAD: &[&str] = &[
    "Thanks for your interest! Could you email your details to business@lumen.example? I'll get back to you today.",
    "We'd love to help! We do volume pricing from 20 units, I'll reach out by email.",
    "Thanks! Sending you our trade pricing now.",
    "Great to hear from you. I'll DM you to set up a quick call.",
];
/// Replies to chatter.
const REPLY_OTHER: &[&str] = &[
    "Ha, love it! 😄",
    "That sounds like the perfect evening 💡",
    "Great setup!",
    "Hello back! 👋",
];
/// Second replies when a device problem persists.
const REPLY_SECOND_DEVICE: &[&str] = &[
    "Thanks, got it! A replacement is on its way, tracking to follow.",
    "Thanks, I've escalated this to our engineers and will update you tomorrow.",
    "Got your DM, replying there now 👍",
    "Sorry it's still playing up, let's get you a replacement. Check your DMs.",
];
/// Second replies when an order problem persists.
const REPLY_SECOND_ORDER: &[&str] = &[
    "Thanks for your patience. The refund has been approved, you'll see it in 3–5 days.",
    "Thanks, I've chased the courier and a new parcel ships today.",
    "Sorry again! I've escalated this to our billing lead; you'll hear from us by tomorrow.",
];
/// Second replies when the incident still affects someone.
const REPLY_SECOND_INCIDENT: &[&str] = &[
    "Thanks for letting us know. A fix for the last few cases goes out tonight; I'll check back with you tomorrow.",
    "Sorry it's still not right! Our engineers can push the fix to your hub directly, check your DMs.",
];
/// Second replies to a follow-up question.
const REPLY_SECOND_QUESTION: &[&str] = &[
    "Yes, the older bulbs work too as long as they're on firmware 4.x.",
    "It's under Settings → Lights → Advanced. Shout if it's not there!",
    "Make sure you're on app 3.8: that option arrived in the last update.",
];
/// Second replies to a lead.
const REPLY_SECOND_LEAD: &[&str] = &[
    "Got it, thanks! The quote is in your inbox, shout with any questions.",
    "Thanks! I've booked us in for a call on Thursday.",
];
/// Second replies when the customer says it worked.
const REPLY_SECOND_POS: &[&str] = &[
    "Glad to hear it! Enjoy 💡",
    "Brilliant, thanks for letting us know!",
    "Great news. Shout if you need anything else!",
];
/// Replies to a conversation reopened after it was resolved.
const REPLY_REOPEN: &[&str] = &[
    "Sorry it's back! I've reopened your case and sent you a DM.",
    "That's frustrating, sorry. Let's swap it for a new one, check your DMs.",
    "Sorry about that. I've chased billing again and flagged it as urgent.",
];
/// Automated acknowledgements on social platforms, sent off-hours.
const ACKS_SOCIAL: &[&str] = &[
    "Thanks for reaching out! Our team is offline right now and will reply as soon as we're back (Mon–Fri 8–20 UTC).",
    "Thanks for your message! We'll get back to you as soon as we can. For urgent issues: status.lumen.example",
];
/// The contact form's automated acknowledgement email.
const ACK_WEBHOOK: &str = "Thanks for contacting Lumen! We've received your message (ref {ref}) and will get back to you within 24 hours.\n\nLumen Support";

/// Customer follow-ups when our reply helped.
const FOLLOW_POS: &[&str] = &[
    "that worked, thank you!! 🙏",
    "All sorted, thanks {agent}!",
    "brilliant, thanks for the quick reply",
    "got the replacement, all good now 👍",
    "perfect, that's exactly what I needed",
    "thanks! that helps a lot",
];
/// Customer follow-ups when a device problem persists.
const FOLLOW_NEG_DEVICE: &[&str] = &[
    "still not working after the reset 😩",
    "DM sent",
    "tried that, no luck. what next?",
    "app version 3.7.2, iPhone 15",
    "done, sent you the serial",
    "it worked for a day and now it's back to square one",
    "ok but when? it's been days",
    "the serial is on the sticker: LMN-{ticket}",
];
/// Customer follow-ups when an order problem persists.
const FOLLOW_NEG_ORDER: &[&str] = &[
    "DM sent with the order number",
    "the refund still hasn't arrived",
    "tracking hasn't moved in 4 days",
    "ok but when? it's been weeks",
    "order number is {order}",
];
/// Customer follow-ups with another question.
const FOLLOW_NEG_QUESTION: &[&str] = &[
    "and what about the dimmer switch? does that need the hub too?",
    "I don't see that option in the app. am I on the wrong version?",
    "thanks! does that work with the older bulbs too?",
    "hmm, where exactly is that in the app?",
];
/// Follow-ups from leads.
const FOLLOW_LEAD: &[&str] = &[
    "emailed you just now, thanks!",
    "great, my colleague will reach out too",
    "sent! looking forward to the quote",
];
/// Messages that reopen a resolved device complaint.
const REOPEN_DEVICE: &[&str] = &[
    "Hi again, the {p} is back to its old tricks 😩",
    "sorry to bring this up again but it stopped working again",
    "the replacement has the same problem",
    "this is happening again. {angry}",
    "hmm, it worked for a while but now it {i} again",
];
/// Messages that reopen a resolved order complaint.
const REOPEN_ORDER: &[&str] = &[
    "refund still not here, it's been another week",
    "still no sign of the parcel. {angry}",
    "you said 24h, it's been a week. {angry}",
];
/// Replies from other people to a high-reach complaint.
const PILE_ON: &[&str] = &[
    "same here 😩",
    "+1, mine too since this morning",
    "glad it's not just me",
    "happened to me too, support never answered",
    "this is why I went with {comp}",
    "any fix yet?",
    "Ouch. Hope they sort it",
    "same, all {nb} bulbs offline",
    "yep. whole flat is dark",
    "been there. took them a week to reply to me",
    "came here to say exactly this",
];

/// Lumen's tips and announcements.
const BROADCASTS: &[&str] = &[
    "Tip: long-press a scene in the app to make it your morning default ☀️",
    "Did you know? You can group lights by floor in Settings → Rooms.",
    "Our support team is here Mon–Fri 8:00–20:00 UTC and weekends 10–16. Ask us anything!",
    "Movie night tip: set your {l} to 2200K at 20% brightness 🍿",
    "Weekend project: light up your porch with the outdoor strip. Guide on the blog.",
    "We've planted 10,000 trees with our packaging partner this year 🌳",
    "Energy tip: the app's energy report shows which lights use the most power.",
    "Q: Can Lumen work without the cloud? A: Yes, local control has been on by default since 4.0.",
    "Meet the team: this week {agent} from support shares their favourite scene 💡",
    "Matter support is live for every Lumen bulb made since 2022 🎉",
    "Going away? Vacation mode turns your lights on and off so the house looks lived in.",
    "Thank you for all the lovely photos of your setups this week 💛 Keep them coming with #LumenLights",
    "Reminder: firmware updates install at 3am local time by default. Change it in Settings → Hub.",
    "Pro tip: triple-tap the dimmer switch to jump to your favourite scene.",
    "How do you use your Lumen lights? Tell us below 👇",
    "The Hub Mini is back in stock in all regions.",
    "Accessibility: the app now supports larger text and VoiceOver throughout.",
    "We're hiring support agents in Lisbon and Dublin! Details on lumen.example/careers",
    "Sleep tip: a warm 1800K scene an hour before bed helps you wind down 🌙",
    "New colours for the Lightstrip Plus: try 'Aurora' and 'Ember' in the app ✨",
    "Wondering which bulb fits? Our fitting guide: lumen.example/help/fittings",
    "Spring clean your schedules: the app now shows which ones haven't fired in 30 days.",
    "Community showcase: a whole treehouse lit with Lumen strips 🌲💡",
    "App 3.8 is out: faster startup, widgets for scenes and a new dark mode.",
];

/// Blog posts published in the window: slug, day after the window starts.
const BLOG_POSTS: &[(&str, i64)] = &[
    ("introducing-sunrise-schedules", 2),
    ("how-we-test-our-bulbs", 8),
    ("matter-support-is-here", 14),
    ("five-scenes-for-winter-evenings", 20),
    ("lumen-app-3-8", 27),
    ("behind-the-scenes-hub-mini", 33),
    ("energy-saving-tips", 40),
    ("meet-the-support-team", 46),
    ("outdoor-strip-launch", 53),
    ("our-sustainability-report", 60),
    ("firmware-4-2-release-notes", 65),
    ("what-went-wrong-with-4-2", 69),
    ("lumen-and-home-assistant", 75),
    ("designing-for-sleep", 81),
    ("community-showcase-spring", 87),
];
/// Older posts that still get comments early in the window.
const OLD_POSTS: &[&str] = &["smart-lighting-101", "hub-mini-faq", "welcome-to-the-blog"];

/// Day (after the window starts) of the firmware 4.2 incident.
const INCIDENT_DAY: i64 = 66;

/// First names, from many places.
const FIRST_NAMES: &[&str] = &[
    "Jane",
    "Tom",
    "Aisha",
    "Liam",
    "Sofia",
    "Noah",
    "Mia",
    "Lucas",
    "Emma",
    "Oliver",
    "Amara",
    "Ethan",
    "Chloe",
    "Mateo",
    "Yuki",
    "Hannah",
    "Ravi",
    "Grace",
    "Diego",
    "Zoë",
    "Finn",
    "Nadia",
    "Omar",
    "Lena",
    "Jonas",
    "Clara",
    "Tariq",
    "Ingrid",
    "Kofi",
    "Maya",
    "Sven",
    "Elif",
    "Kenji",
    "Leila",
    "Marta",
    "Pablo",
    "Freya",
    "Arjun",
    "Isla",
    "Hugo",
    "Nina",
    "Felix",
    "Priyanka",
    "Sam",
    "Alex",
    "Jordan",
    "Taylor",
    "Rosa",
    "Ahmed",
    "Julia",
    "Mark",
    "Sarah",
    "David",
    "Laura",
    "Chris",
    "Anna",
    "James",
    "Olga",
    "Wei",
    "Lin",
    "Carlos",
    "Fatou",
    "Ibrahim",
    "Nora",
    "Eva",
    "Max",
    "Lucy",
    "Ben",
    "Kate",
    "Dan",
    "Ellie",
    "Rory",
    "Sinead",
    "Ciara",
    "Aoife",
    "Callum",
    "Zara",
    "Theo",
    "Ruby",
    "Jack",
    "Harriet",
    "Joe",
    "Megan",
    "Priya",
    "Tomás",
    "Björn",
    "Renée",
    "Søren",
    "José",
    "Agnieszka",
    "Mei",
    "Hiroshi",
    "Chidi",
    "Adaeze",
    "Lars",
    "Maja",
    "Emil",
    "Alma",
    "Leo",
    "Ada",
];
/// Family names, from many places.
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Okafor",
    "Nguyen",
    "García",
    "Müller",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Khan",
    "Murphy",
    "O'Brien",
    "Walsh",
    "Kelly",
    "Brown",
    "Wilson",
    "Taylor",
    "Davies",
    "Evans",
    "Thomas",
    "Johnson",
    "Lee",
    "Martin",
    "Bernard",
    "Dubois",
    "Moreau",
    "Fischer",
    "Weber",
    "Schneider",
    "Jansen",
    "de Vries",
    "Bakker",
    "Silva",
    "Santos",
    "Ferreira",
    "Costa",
    "López",
    "Martínez",
    "Hernández",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Singh",
    "Patel",
    "Sharma",
    "Ahmed",
    "Hassan",
    "Ali",
    "Mensah",
    "Boateng",
    "Adeyemi",
    "Andersson",
    "Johansson",
    "Nielsen",
    "Hansen",
    "Larsen",
    "Virtanen",
    "Novak",
    "Horvat",
    "Popescu",
    "Ivanova",
    "Petrov",
    "Cohen",
    "Levi",
    "Rahman",
    "Yilmaz",
    "Demir",
    "Clarke",
    "Hughes",
    "Reid",
    "Campbell",
    "Stewart",
    "Fraser",
    "Byrne",
    "Ryan",
    "Doyle",
    "Quinn",
];
/// Nicknames people use as handles.
const NICKS: &[&str] = &[
    "pixelpanda",
    "nightowl",
    "lampfan",
    "sunnyside",
    "glowworm",
    "retrogamer",
    "homelabber",
    "catdad",
    "plantmom",
    "coffeeaddict",
    "bikecommuter",
    "moonchild",
    "dadjokes",
    "techtinker",
    "diyqueen",
    "sleepyfox",
    "quietcoder",
    "urbanhiker",
    "vinylhead",
    "bakerbetty",
    "lightnerd",
    "cosycorner",
    "foxglove",
    "byteme",
    "tinkerbell",
    "cloudwatcher",
    "sparky",
    "lumenlover",
    "ledhead",
    "nordicnest",
];
/// Mastodon servers people are on.
const MASTODON_INSTANCES: &[&str] = &[
    "mastodon.social",
    "fosstodon.org",
    "hachyderm.io",
    "mstdn.social",
    "infosec.exchange",
    "mas.to",
    "chaos.social",
    "mastodon.online",
    "techhub.social",
    "social.vivaldi.net",
    "det.social",
    "piaille.fr",
    "toot.community",
    "mastodon.ie",
];
/// Mail providers for contact-form senders.
const MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "proton.me",
    "yahoo.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "hotmail.co.uk",
    "fastmail.com",
    "orange.fr",
];
/// Company domains for business senders.
const COMPANY_DOMAINS: &[&str] = &[
    "northwind-hotels.com",
    "brightspace-offices.co.uk",
    "greenleaf-schools.org",
    "harbourcafe.ie",
    "atelier-nord.design",
    "cowork-central.eu",
    "meridian-homes.com",
    "sparkle-electrical.co.uk",
];

/// When a notable post was written.
#[derive(Clone, Copy)]
enum When {
    /// Minutes after the incident began.
    Incident(i64),
    /// Minutes before now.
    Ago(i64),
}

/// High-reach authors and their complaint: handle, name, platform, followers, text, when,
/// whether it is answered.
const NOTABLES: &[(&str, &str, Platform, u64, &str, When, bool)] = &[
    (
        "techwithtara.bsky.social",
        "Tara Quinn",
        Platform::Bluesky,
        1_420_000,
        "Woke up to every light in my house dead after the Lumen 4.2 update. 23 bulbs, all 'unreachable'. @lumen.bsky.social what happened?? 😡",
        When::Incident(95),
        true,
    ),
    (
        "gizmodaily.com",
        "Gizmo Daily",
        Platform::Bluesky,
        1_930_000,
        "Our Lumen test rig has been offline since the 4.2 firmware update this morning, and readers report the same. Not a great look, @lumen.bsky.social.",
        When::Incident(260),
        true,
    ),
    (
        "dana-whitfield.bsky.social",
        "Dana Whitfield",
        Platform::Bluesky,
        312_000,
        "Day ruined: the Lumen update bricked our hub, the nursery night light is off and support chat is a bot loop. @lumen.bsky.social this is not OK",
        When::Incident(130),
        true,
    ),
    (
        "homelabhenrik@fosstodon.org",
        "Henrik Sørensen",
        Platform::Mastodon,
        164_000,
        "@lumen@mastodon.social firmware 4.2 broke local control completely. Every bulb is unreachable on my network. Please roll it back. #LumenDown",
        When::Incident(400),
        true,
    ),
    (
        "smarthomesam.bsky.social",
        "Sam Okafor",
        Platform::Bluesky,
        568_000,
        "3 weeks, 4 support tickets, 0 answers. My Lumen hub has been a paperweight since it reset itself. Can't recommend @lumen.bsky.social anymore.",
        When::Ago(71 * 1440 + 7 * 60),
        true,
    ),
    (
        "nightowlnora.bsky.social",
        "Nora Lindqvist",
        Platform::Bluesky,
        1_870_000,
        "Still waiting on a refund from @lumen.bsky.social for a Glow lamp that arrived smashed. 5 weeks now. Anyone know a real human there? 🙃",
        When::Ago(47 * 1440 + 14 * 60),
        true,
    ),
    (
        "mattbuilds@mastodon.social",
        "Matt Reyes",
        Platform::Mastodon,
        231_000,
        "@lumen@mastodon.social your app logged everyone in my family out and now nobody can turn the lights on. Fix your app please, it's been 2 days.",
        When::Ago(12 * 1440 + 5 * 60),
        true,
    ),
    (
        "priyaraman.dev",
        "Priya Raman",
        Platform::Bluesky,
        143_000,
        "Lumen lightstrip died after 6 weeks, the replacement died after 3. @lumen.bsky.social what's going on with your quality control? 😞",
        When::Ago(4 * 1440 + 9 * 60),
        true,
    ),
    (
        "jonnyreviews.bsky.social",
        "Jonny Park",
        Platform::Bluesky,
        905_000,
        "@lumen.bsky.social the Hub Mini I'm reviewing keeps dropping off wifi every 10 minutes. Known issue? Not a great first impression 😬 Video goes up Friday.",
        When::Ago(45),
        false,
    ),
];

/// Praise some notables post after their problem was fixed.
const NOTABLE_THANKS: &str = "Credit where it's due: @lumen.bsky.social sorted it within the hour and followed up the next day. That's how you do it 👏";

// ---------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------

/// How a person tends to behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    /// Writes now and then about anything.
    Regular,
    /// Praises often.
    Advocate,
    /// A repeat customer with problems.
    Unhappy,
    /// Writes for a business: leads and questions.
    Business,
    /// Posts spam.
    Spammer,
    /// A high-reach author with one scripted complaint.
    Notable,
}

/// One invented person (one identity on one platform).
struct Person {
    /// The platform the identity is on.
    platform: Platform,
    /// Handle (Bluesky), `user@instance` (Mastodon), nickname (blog) or email (form).
    handle: String,
    /// Display name.
    name: String,
    /// First name, for greetings.
    first: String,
    /// Followers, on platforms that have them.
    followers: Option<u64>,
    /// The DID, on Bluesky.
    did: String,
    /// How they behave.
    persona: Persona,
}

/// What a root message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    /// A product misbehaves.
    Device,
    /// An order, delivery, refund or bill.
    Order,
    /// The firmware 4.2 incident.
    Incident,
    /// Anything else.
    General,
}

/// Who wrote a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A member of the public (index into the people).
    Person(usize),
    /// One of Lumen's agents (index into [`AGENTS`]).
    Agent(usize),
    /// Lumen's own account on the platform.
    Org,
}

/// A message before ids are assigned and the list is sorted.
struct Draft {
    /// Where it was written.
    platform: Platform,
    /// Who wrote it.
    who: Who,
    /// The text.
    text: String,
    /// When.
    at: DateTime<Utc>,
    /// The draft it replies to.
    parent: Option<usize>,
    /// Inbound or outbound.
    direction: Direction,
    /// An automated acknowledgement.
    automated: bool,
    /// Reshares seen.
    reshares: u64,
    /// Replies seen beyond those in the data set.
    extra_replies: u64,
    /// The intent it was written with (inbound only).
    label: Option<Intent>,
    /// Blog post slug, for rss messages.
    slug: &'static str,
    /// A fixed id (blog posts); otherwise assigned at the end.
    fixed_id: Option<String>,
}

/// What a root is about, for choosing replies.
#[derive(Clone, Copy)]
struct RootMeta {
    /// The root draft.
    draft: usize,
    /// Its author.
    person: usize,
    /// What it was written as.
    intent: Intent,
    /// What it is about.
    topic: Topic,
    /// The product it mentions (index into [`PRODUCTS`]).
    product: usize,
    /// A high-reach complaint: the comms lead answers within minutes, at any hour.
    urgent: bool,
    /// Whether anyone may answer it at all.
    answer: bool,
    /// The answer that fits the question, when it has one.
    hint: Option<&'static str>,
    /// Not resolved before this (the end of a pile-on of replies from others).
    settle: Option<DateTime<Utc>>,
}

/// What fills a template.
#[derive(Clone, Copy)]
struct Ctx {
    /// The platform, for how the organisation is mentioned.
    platform: Platform,
    /// The product (index into [`PRODUCTS`]).
    product: usize,
    /// Whether details may mention firmware 4.2.
    after_incident: bool,
}

/// The generator's state.
struct Gen {
    rng: ChaCha8Rng,
    /// `now` rounded down to the second: every time is strictly before it.
    limit: DateTime<Utc>,
    /// The first moment of the window (90 days before `now`, plus a minute).
    start: DateTime<Utc>,
    /// When the firmware 4.2 incident began.
    incident: DateTime<Utc>,
    /// Everyone who writes.
    people: Vec<Person>,
    /// People by platform, in [`PLATFORMS`] order.
    by_platform: [Vec<usize>; 4],
    /// Handles given out.
    handles: HashSet<String>,
    /// Every message so far.
    drafts: Vec<Draft>,
    /// (root draft, when, agent).
    resolutions: Vec<(usize, DateTime<Utc>, usize)>,
    /// Cumulative volume weight per hour of the window.
    slot_cum: Vec<f64>,
    /// Seconds in each hour slot (the last one may be short).
    slot_len: Vec<i64>,
    /// The last contact-form reference number.
    ticket_ref: u32,
}

/// Picks one element of a non-empty slice.
fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// Picks an index with the given integer weights.
fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    weighted_by(rng, weights, |w| *w)
}

/// Picks the index of one of `items`, each weighted by `weight`.
fn weighted_by<T>(rng: &mut ChaCha8Rng, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
    let total: u32 = items.iter().map(&weight).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len().saturating_sub(1)
}

/// The plural of a product name ("A19 bulbs", "Lightstrip Plus strips").
fn plural(name: &str) -> String {
    if name.ends_with("Plus") {
        format!("{name} strips")
    } else {
        format!("{name}s")
    }
}

/// The string with its first character in upper case.
fn cap_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// ASCII form of a name part for handles: lowercase, accents folded, others dropped.
fn ascii_part(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars().flat_map(char::to_lowercase) {
        let c = match ch {
            'á' | 'à' | 'ä' | 'å' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ö' | 'ø' | 'ô' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ł' => 'l',
            c if c.is_ascii_alphanumeric() => c,
            _ => continue,
        };
        out.push(c);
    }
    out
}

/// Replaces `{key}` slots in a template using `f`, then tidies spaces.
fn fill_with(tpl: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(tpl.len() + 32);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push_str(&f(&after[..close]));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    tidy(&out)
}

/// Collapses runs of spaces (not newlines) and trims.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = false;
    for ch in s.chars() {
        if ch == ' ' {
            if !prev_space {
                out.push(ch);
            }
            prev_space = true;
        } else {
            out.push(ch);
            prev_space = false;
        }
    }
    out.trim().to_string()
}

/// Opening hours of the support team (UTC): weekdays 8–20, weekends 10–16.
fn hours_of(day: Weekday) -> (u32, u32) {
    match day {
        Weekday::Sat | Weekday::Sun => (10, 16),
        _ => (8, 20),
    }
}

/// Whether the support team is at work at `t`.
fn in_hours(t: DateTime<Utc>) -> bool {
    let (open, close) = hours_of(t.weekday());
    (open..close).contains(&t.hour())
}

/// `t` if the team is at work then, otherwise the next opening time.
fn next_open(t: DateTime<Utc>) -> DateTime<Utc> {
    for offset in 0..4 {
        let date = t.date_naive() + Duration::days(offset);
        let (open, close) = hours_of(date.weekday());
        let at = |h: u32| date.and_hms_opt(h, 0, 0).map(|n| n.and_utc());
        if let (Some(o), Some(c)) = (at(open), at(close))
            && t < c
        {
            return if t < o { o } else { t };
        }
    }
    t
}

impl Gen {
    /// A generator for `seed` whose window ends at `now`.
    fn new(seed: u64, now: DateTime<Utc>) -> Self {
        let limit = now - Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
        let start = limit - Duration::days(90) + Duration::minutes(1);
        let incident = (start + Duration::days(INCIDENT_DAY))
            .date_naive()
            .and_hms_opt(6, 0, 0)
            .map(|n| n.and_utc())
            .unwrap_or(start + Duration::days(INCIDENT_DAY));
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            limit,
            start,
            incident,
            people: Vec::with_capacity(6_500),
            by_platform: [Vec::new(), Vec::new(), Vec::new(), Vec::new()],
            handles: HashSet::new(),
            drafts: Vec::with_capacity(26_000),
            resolutions: Vec::with_capacity(8_000),
            slot_cum: Vec::new(),
            slot_len: Vec::new(),
            ticket_ref: 40_000,
        };
        g.build_slots();
        g
    }

    /// Hourly volume weights over the window: diurnal and weekly rhythm, a growing
    /// trend, and the incident spike.
    fn build_slots(&mut self) {
        const HOURLY: [f64; 24] = [
            0.25, 0.18, 0.12, 0.10, 0.10, 0.12, 0.20, 0.35, 0.60, 0.85, 1.0, 1.0, 1.0, 1.0, 1.0,
            1.05, 1.1, 1.1, 1.05, 1.0, 0.95, 0.8, 0.6, 0.4,
        ];
        let total_secs = (self.limit - self.start).num_seconds();
        let mut cum = 0.0;
        let mut k = 0i64;
        while k * 3600 < total_secs {
            let t = self.start + Duration::hours(k);
            let len = (total_secs - k * 3600).min(3600);
            let day = k as f64 / 24.0;
            let trend = 0.7 + 0.6 * day / 90.0;
            let week = match t.weekday() {
                Weekday::Sat => 0.65,
                Weekday::Sun => 0.6,
                _ => 1.0,
            };
            let mut w = trend * week * HOURLY[t.hour() as usize];
            let since = (t - self.incident).num_minutes() as f64 / 60.0;
            if (0.0..48.0).contains(&since) {
                let fall = 1.0 - since / 48.0;
                let rise = if since < 2.0 {
                    (since + 1.0) / 3.0
                } else {
                    1.0
                };
                w += 7.0 * fall * fall * rise;
            }
            cum += w * len as f64 / 3600.0;
            self.slot_cum.push(cum);
            self.slot_len.push(len);
            k += 1;
        }
    }

    /// A time drawn from the volume pattern.
    fn sample_time(&mut self) -> DateTime<Utc> {
        let total = self.slot_cum.last().copied().unwrap_or(0.0);
        let u = self.rng.random::<f64>() * total;
        let k = self
            .slot_cum
            .partition_point(|c| *c <= u)
            .min(self.slot_cum.len().saturating_sub(1));
        let len = self.slot_len.get(k).copied().unwrap_or(1).max(1);
        let off = self.rng.random_range(0..len);
        self.start + Duration::seconds(k as i64 * 3600 + off)
    }

    /// A heavy-tailed follower count.
    fn followers(&mut self) -> u64 {
        const BUCKETS: &[(u64, u64, u32)] = &[
            (10, 60, 2200),
            (60, 250, 3000),
            (250, 800, 2300),
            (800, 2_000, 1400),
            (2_000, 10_000, 800),
            (10_000, 100_000, 270),
            (100_000, 2_000_000, 30),
        ];
        let (lo, hi, _) = BUCKETS[weighted_by(&mut self.rng, BUCKETS, |b| b.2)];
        // Skew towards the low end of the bucket: the smaller of two draws.
        let a = self.rng.random_range(lo..hi);
        let b = self.rng.random_range(lo..hi);
        a.min(b)
    }

    /// A handle built on `base` that nobody else has yet.
    fn unique_handle(&mut self, base: String, platform: Platform) -> String {
        let mut candidate = base.clone();
        loop {
            let full = match platform {
                Platform::Mastodon => {
                    let inst = *pick(&mut self.rng, MASTODON_INSTANCES);
                    format!("{candidate}@{inst}")
                }
                _ => candidate.clone(),
            };
            if self.handles.insert(full.clone()) {
                return full;
            }
            let n: u32 = self.rng.random_range(2..999);
            candidate = match platform {
                Platform::Bluesky => match base.split_once('.') {
                    Some((head, tail)) => format!("{head}{n}.{tail}"),
                    None => format!("{base}{n}"),
                },
                Platform::Webhook => match base.split_once('@') {
                    Some((head, tail)) => format!("{head}{n}@{tail}"),
                    None => format!("{base}{n}"),
                },
                _ => format!("{base}{n}"),
            };
        }
    }

    /// Invents a person on `platform` with a realistic handle and follower count.
    fn add_person(
        &mut self,
        platform: Platform,
        first: &str,
        last: &str,
        persona: Persona,
    ) -> usize {
        let f = ascii_part(first);
        let l = ascii_part(last);
        let li = l.chars().next().unwrap_or('x');
        let nn: u32 = self.rng.random_range(1..100);
        let nick = *pick(&mut self.rng, NICKS);
        let form = self.rng.random_range(0..10u32);
        let base = match platform {
            Platform::Bluesky => match form {
                0..=2 => format!("{f}{l}.bsky.social"),
                3 => format!("{f}-{l}.bsky.social"),
                4 => format!("{f}{nn}.bsky.social"),
                5 => format!("{f}{li}.bsky.social"),
                6 => format!("{nick}.bsky.social"),
                7 => format!("{nick}{nn}.bsky.social"),
                8 => {
                    let tld = *pick(&mut self.rng, &["com", "net", "dev", "xyz", "me"]);
                    format!("{f}{l}.{tld}")
                }
                _ => format!("{f}{l}{nn}.bsky.social"),
            },
            Platform::Mastodon => match form {
                0..=2 => format!("{f}_{l}"),
                3 | 4 => format!("{f}{l}"),
                5 => f.clone(),
                6 | 7 => nick.to_string(),
                _ => format!("{f}{nn}"),
            },
            Platform::Rss => match form {
                0..=3 => format!("{f}{li}{nn}"),
                4..=6 => nick.to_string(),
                _ => format!("{f}_{l}"),
            },
            Platform::Webhook => {
                let domain = if persona == Persona::Business {
                    *pick(&mut self.rng, COMPANY_DOMAINS)
                } else {
                    *pick(&mut self.rng, MAIL_DOMAINS)
                };
                match form {
                    0..=4 => format!("{f}.{l}@{domain}"),
                    5..=7 => format!("{f}{l}{nn}@{domain}"),
                    _ => format!("{f}{li}@{domain}"),
                }
            }
        };
        let handle = self.unique_handle(base, platform);
        let name = match platform {
            Platform::Rss => format!("{first} {}.", last.chars().next().unwrap_or('X')),
            _ => {
                if self.rng.random_bool(0.12) && platform.is_social() {
                    format!("{first} {last} 💡")
                } else if self.rng.random_bool(0.08) {
                    first.to_string()
                } else {
                    format!("{first} {last}")
                }
            }
        };
        let followers = if platform.is_social() {
            Some(self.followers())
        } else {
            None
        };
        let did = if platform == Platform::Bluesky {
            self.did()
        } else {
            String::new()
        };
        self.push_person(Person {
            platform,
            handle,
            name,
            first: first.to_string(),
            followers,
            did,
            persona,
        })
    }

    /// Adds a person and indexes them by platform.
    fn push_person(&mut self, p: Person) -> usize {
        let idx = self.people.len();
        let slot = PLATFORMS.iter().position(|x| *x == p.platform).unwrap_or(0);
        self.by_platform[slot].push(idx);
        self.people.push(p);
        idx
    }

    /// A random `did:plc:` identifier.
    fn did(&mut self) -> String {
        const ALPHA: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut s = String::from("did:plc:");
        for _ in 0..24 {
            s.push(char::from(ALPHA[self.rng.random_range(0..32usize)]));
        }
        s
    }

    /// Invents the people and how many conversations each starts.
    fn make_people(&mut self) {
        const PEOPLE: usize = 5_900;
        for _ in 0..PEOPLE {
            let persona = match self.rng.random_range(0..1000u32) {
                0..=24 => Persona::Spammer,
                25..=49 => Persona::Business,
                50..=61 => Persona::Advocate,
                62..=101 => Persona::Unhappy,
                _ => Persona::Regular,
            };
            let platform = match persona {
                Persona::Business => PLATFORMS[weighted(&mut self.rng, &[25, 10, 5, 60])],
                Persona::Spammer => PLATFORMS[weighted(&mut self.rng, &[55, 25, 20, 0])],
                _ => PLATFORMS[weighted(&mut self.rng, &[50, 30, 7, 13])],
            };
            let first = *pick(&mut self.rng, FIRST_NAMES);
            let last = *pick(&mut self.rng, LAST_NAMES);
            let idx = self.add_person(platform, first, last, persona);
            // A few people have the same name on the other social platform.
            if platform.is_social() && persona != Persona::Spammer && self.rng.random_bool(0.02) {
                let other = if platform == Platform::Bluesky {
                    Platform::Mastodon
                } else {
                    Platform::Bluesky
                };
                let twin = self.add_person(other, first, last, persona);
                self.people[twin].name = self.people[idx].name.clone();
            }
        }
    }

    /// How many conversations a person starts over the period.
    fn root_count(&mut self, persona: Persona) -> u32 {
        match persona {
            Persona::Advocate => self.rng.random_range(5..=16),
            Persona::Unhappy => self.rng.random_range(3..=8),
            Persona::Business => self.rng.random_range(1..=3),
            Persona::Spammer => self.rng.random_range(1..=5),
            Persona::Notable => 0,
            Persona::Regular => match self.rng.random_range(0..100u32) {
                0..=73 => 1,
                74..=89 => 2,
                90..=95 => 3,
                96..=98 => self.rng.random_range(4..=6),
                _ => self.rng.random_range(7..=10),
            },
        }
    }

    /// What a person of this persona writes about this time.
    fn intent_for(&mut self, persona: Persona) -> Intent {
        use Intent::*;
        let table: &[(Intent, u32)] = match persona {
            Persona::Spammer => &[(Spam, 1)],
            Persona::Advocate => &[(Praise, 60), (Other, 20), (Idea, 12), (Question, 8)],
            Persona::Unhappy => &[(Complaint, 70), (Question, 30)],
            Persona::Business => &[(Lead, 70), (Question, 30)],
            Persona::Regular | Persona::Notable => &[
                (Complaint, 30),
                (Question, 28),
                (Praise, 16),
                (Idea, 8),
                (Lead, 3),
                (Other, 15),
            ],
        };
        table[weighted_by(&mut self.rng, table, |x| x.1)].0
    }

    /// Any product, weighted by how common it is.
    fn product(&mut self) -> usize {
        weighted(&mut self.rng, PRODUCT_WEIGHTS)
    }

    /// A product that fits a template: `{l}` needs a light, `{x}` a physical device,
    /// `{p}` takes anything, the app included.
    fn product_for(&mut self, tpl: &str) -> usize {
        let lighting = tpl.contains("{l}") || tpl.contains("{L}") || tpl.contains("{ls}");
        let physical = lighting || tpl.contains("{x}") || tpl.contains("{X}");
        loop {
            let p = self.product();
            let ok = match PRODUCTS[p].1 {
                Cat::Bulb | Cat::Strip => true,
                Cat::Hub | Cat::Sensor | Cat::Switch => !lighting,
                Cat::App => !physical,
            };
            if ok {
                return p;
            }
        }
    }

    /// Fills a template for a context.
    fn fill(&mut self, tpl: &str, c: Ctx) -> String {
        let rng = &mut self.rng;
        fill_with(tpl, |key| slot(rng, key, c))
    }

    /// Every person's conversations, with their threads.
    fn make_roots(&mut self) {
        let mut metas = Vec::with_capacity(12_000);
        for person in 0..self.people.len() {
            let persona = self.people[person].persona;
            let n = self.root_count(persona);
            for _ in 0..n {
                let at = self.sample_time();
                let meta = self.make_root(person, at);
                metas.push(meta);
            }
        }
        for meta in metas {
            self.thread(meta);
        }
    }

    /// Writes one inbound conversation starter.
    fn make_root(&mut self, person: usize, at: DateTime<Utc>) -> RootMeta {
        let persona = self.people[person].persona;
        let platform = self.people[person].platform;
        let in_incident = at >= self.incident && at < self.incident + Duration::hours(48);
        let mut intent = self.intent_for(persona);
        let mut topic = Topic::General;
        if in_incident
            && !matches!(persona, Persona::Spammer | Persona::Business)
            && self.rng.random_bool(0.75)
        {
            intent = Intent::Complaint;
            topic = Topic::Incident;
        } else if intent == Intent::Complaint {
            topic = if self.rng.random_bool(0.27) {
                Topic::Order
            } else {
                Topic::Device
            };
        }
        if platform == Platform::Webhook && matches!(intent, Intent::Other | Intent::Spam) {
            intent = Intent::Question;
        }
        let foreign = platform != Platform::Webhook && self.rng.random_bool(0.035);
        let pool: &[&str] = match (intent, topic, foreign) {
            (Intent::Complaint, Topic::Incident, true) => COMPLAINT_INCIDENT_FOREIGN,
            (Intent::Complaint, Topic::Incident, false) => COMPLAINT_INCIDENT,
            (Intent::Complaint, _, true) => FOREIGN_COMPLAINT,
            (Intent::Complaint, Topic::Order, false) => COMPLAINT_ORDER,
            (Intent::Complaint, _, false) => COMPLAINT_DEVICE,
            (Intent::Question, _, true) => FOREIGN_QUESTION,
            (Intent::Question, _, false) => &[],
            (Intent::Praise, _, true) => FOREIGN_PRAISE,
            (Intent::Praise, _, false) => PRAISE,
            (Intent::Idea, _, _) => IDEAS,
            (Intent::Lead, _, _) => LEADS,
            (Intent::Spam, _, _) => SPAM,
            (Intent::Other, _, true) => FOREIGN_OTHER,
            (Intent::Other, _, false) => OTHER,
        };
        let mut hint = None;
        let mut tpl = if pool.is_empty() {
            let (q, a) = *pick(&mut self.rng, QUESTIONS);
            hint = Some(a);
            q
        } else {
            *pick(&mut self.rng, pool)
        };
        if !platform.is_social() {
            // "Lumen my hub won't update" reads wrong in an email or a blog comment.
            tpl = tpl.strip_prefix("{org} ").unwrap_or(tpl);
        }
        let product = self.product_for(tpl);
        let ctx = Ctx {
            platform,
            product,
            after_incident: at > self.incident,
        };
        let mut text = self.fill(tpl, ctx);
        let first = self.people[person].first.clone();
        text = self.decorate(text, intent, platform, foreign, &first);
        let followers = self.people[person].followers;
        let reshares = self.reshares(followers, intent);
        let extra_replies = match followers {
            Some(f) if f > 10_000 => self.rng.random_range(0..=f / 8_000),
            Some(_) if self.rng.random_bool(0.1) => self.rng.random_range(1..=3),
            _ => 0,
        };
        let slug = if platform == Platform::Rss {
            self.slug_at(at)
        } else {
            ""
        };
        let draft = self.push(Draft {
            platform,
            who: Who::Person(person),
            text,
            at,
            parent: None,
            direction: Direction::Inbound,
            automated: false,
            reshares,
            extra_replies,
            label: Some(intent),
            slug,
            fixed_id: None,
        });
        let urgent = intent == Intent::Complaint && followers.is_some_and(|f| f >= 20_000);
        RootMeta {
            draft,
            person,
            intent,
            topic,
            product,
            urgent,
            answer: true,
            hint,
            settle: None,
        }
    }

    /// Adds emphasis, mentions, hashtags and the platform's framing to an inbound text.
    fn decorate(
        &mut self,
        mut text: String,
        intent: Intent,
        p: Platform,
        foreign: bool,
        first: &str,
    ) -> String {
        let mention = p.org_mention();
        if intent == Intent::Complaint && !foreign && self.rng.random_bool(0.05) {
            text = text
                .to_uppercase()
                .replace(&mention.to_uppercase(), mention);
        }
        if matches!(intent, Intent::Complaint | Intent::Praise)
            && self.rng.random_bool(0.15)
            && text.ends_with(|c: char| c.is_alphanumeric())
        {
            text.push_str(["!", "!!", "!!!"][self.rng.random_range(0..3usize)]);
        }
        if p.is_social() && intent != Intent::Spam {
            if !text.contains(mention) && self.rng.random_bool(0.35) {
                text = format!("{mention} {text}");
            }
            if !text.contains('#') && self.rng.random_bool(0.1) {
                let tag = if intent == Intent::Complaint {
                    *pick(&mut self.rng, &[" #LumenFail", " #smarthome", " #fail"])
                } else {
                    *pick(&mut self.rng, HASHTAGS)
                };
                text.push_str(tag);
            }
        }
        match p {
            Platform::Rss => {
                if matches!(intent, Intent::Question | Intent::Praise | Intent::Idea)
                    && self.rng.random_bool(0.4)
                {
                    let pre = *pick(&mut self.rng, BLOG_PREFIXES);
                    text = format!("{pre}{}", cap_first(&text));
                }
                text
            }
            Platform::Webhook => {
                if text.ends_with(|c: char| c.is_alphanumeric()) {
                    text.push('.');
                }
                let extra = if matches!(intent, Intent::Complaint | Intent::Question | Intent::Lead)
                {
                    *pick(&mut self.rng, WEBHOOK_EXTRAS)
                } else {
                    ""
                };
                let extra = self.fill(
                    extra,
                    Ctx {
                        platform: p,
                        product: 0,
                        after_incident: false,
                    },
                );
                let hello = *pick(&mut self.rng, WEBHOOK_GREETINGS);
                let bye = *pick(&mut self.rng, WEBHOOK_SIGNOFFS);
                format!("{hello}\n\n{} {extra}\n\n{bye}\n{first}", cap_first(&text))
                    .replace(" \n", "\n")
            }
            _ => text,
        }
    }

    /// Reshares a post gets, growing with the author's reach.
    fn reshares(&mut self, followers: Option<u64>, intent: Intent) -> u64 {
        let f = match followers {
            Some(f) => f,
            None => return 0,
        };
        let boost = if intent == Intent::Complaint { 2 } else { 1 };
        if f < 2_000 {
            if self.rng.random_bool(0.1) {
                self.rng.random_range(1..=3)
            } else {
                0
            }
        } else if f < 100_000 {
            self.rng.random_range(0..=boost * f / 1_500)
        } else {
            self.rng.random_range(f / 2_000..=boost * f / 400)
        }
    }

    /// The blog post a comment written at `at` is most likely on.
    fn slug_at(&mut self, at: DateTime<Utc>) -> &'static str {
        let published: Vec<&'static str> = BLOG_POSTS
            .iter()
            .filter(|(_, day)| self.blog_time(*day) <= at)
            .map(|(s, _)| *s)
            .collect();
        if published.is_empty() {
            return OLD_POSTS[self.rng.random_range(0..OLD_POSTS.len())];
        }
        let back = weighted(&mut self.rng, &[60, 25, 15]).min(published.len() - 1);
        published[published.len() - 1 - back]
    }

    /// When the blog post of `day` was published.
    fn blog_time(&self, day: i64) -> DateTime<Utc> {
        let d = self.start + Duration::days(day);
        d.date_naive()
            .and_hms_opt(10, 0, 0)
            .map(|n| n.and_utc())
            .unwrap_or(d)
    }

    /// Adds a draft and returns its index.
    fn push(&mut self, d: Draft) -> usize {
        self.drafts.push(d);
        self.drafts.len() - 1
    }

    /// A draft replying to `parent`, on the same platform and blog post.
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &mut self,
        parent: usize,
        who: Who,
        text: String,
        at: DateTime<Utc>,
        direction: Direction,
        automated: bool,
        label: Option<Intent>,
    ) -> usize {
        let platform = self.drafts[parent].platform;
        let slug = self.drafts[parent].slug;
        self.push(Draft {
            platform,
            who,
            text,
            at,
            parent: Some(parent),
            direction,
            automated,
            reshares: 0,
            extra_replies: 0,
            label,
            slug,
            fixed_id: None,
        })
    }

    /// A delay in seconds drawn from a mixture of buckets (weight, low, high).
    fn delay(&mut self, buckets: &[(u32, i64, i64)]) -> Duration {
        let (_, lo, hi) = buckets[weighted_by(&mut self.rng, buckets, |b| b.0)];
        Duration::seconds(self.rng.random_range(lo..hi))
    }

    /// When an agent replies to something written at `t`.
    fn reply_time(&mut self, t: DateTime<Utc>, urgent: bool, slow: bool) -> DateTime<Utc> {
        if urgent {
            return t + self.delay(&[(60, 180, 900), (40, 900, 1_800)]);
        }
        let opened = next_open(t);
        let queued = if opened > t {
            opened + self.delay(&[(1, 300, 5_400)])
        } else {
            t
        };
        let mut d = self.delay(&[
            (25, 120, 900),
            (35, 900, 3_600),
            (25, 3_600, 4 * 3_600),
            (15, 4 * 3_600, 14 * 3_600),
        ]);
        if slow {
            d = d + d / 2;
        }
        let r = queued + d;
        if in_hours(r) {
            r
        } else {
            next_open(r) + self.delay(&[(1, 120, 2_400)])
        }
    }

    /// The agent who handles a conversation at time `at`.
    fn agent_for(&mut self, intent: Intent, at: DateTime<Utc>, urgent: bool) -> usize {
        if urgent {
            return COMMS;
        }
        match intent {
            Intent::Lead => return *pick(&mut self.rng, SALES),
            Intent::Idea if self.rng.random_bool(0.6) => return PRODUCT,
            _ => {}
        }
        let shift = match at.weekday() {
            Weekday::Sat | Weekday::Sun => WEEKEND_SHIFT,
            _ if at.hour() < 14 => EARLY_SHIFT,
            _ => LATE_SHIFT,
        };
        *pick(&mut self.rng, shift)
    }

    /// An agent's reply text, framed for the platform.
    fn reply_text(&mut self, meta: &RootMeta, agent: usize, body_tpl: &str) -> String {
        let platform = self.people[meta.person].platform;
        let ctx = Ctx {
            platform,
            product: meta.product,
            after_incident: true,
        };
        let mut body = self.fill(body_tpl, ctx);
        if !platform.is_social() {
            let how = if platform == Platform::Webhook {
                "reply with"
            } else {
                "email support@lumen.example with"
            };
            for (dm, other) in [
                (
                    "Got your DM, replying there now",
                    "Thanks, that's everything I need",
                ),
                ("send us a DM with", how),
                ("DM us", how),
                ("I'll DM you", "I'll email you"),
                ("check your DMs", "check your inbox"),
                ("Check your DMs", "Check your inbox"),
                ("sent you a DM", "emailed you the details"),
                (
                    "I've sent you the details by DM",
                    "Here are the details: lumen.example/help",
                ),
                (
                    "or DM us the order number",
                    "or reply with the order number",
                ),
                ("in your DMs", "in your inbox"),
            ] {
                body = body.replace(dm, other);
            }
        }
        let first = self.people[meta.person].first.clone();
        let agent_name = AGENTS[agent].1;
        match platform {
            Platform::Bluesky => {
                let mut s = if self.rng.random_bool(0.5) {
                    format!("Hi {first}! {body}")
                } else {
                    body
                };
                if self.rng.random_bool(0.5) {
                    s.push_str(&format!(" ^{}", &agent_name[..1]));
                }
                s
            }
            Platform::Mastodon => {
                let handle = &self.people[meta.person].handle;
                format!("@{handle} Hi {first}! {body} – {agent_name}")
            }
            Platform::Rss => format!("Hi {first}! {body}\n\n– {agent_name}, Lumen team"),
            Platform::Webhook => {
                format!("Hi {first},\n\n{body}\n\nBest wishes,\n{agent_name}\nLumen Support")
            }
        }
    }

    /// The first replies that fit a conversation.
    fn first_reply_pool(meta: &RootMeta) -> &'static [&'static str] {
        match (meta.intent, meta.topic) {
            (Intent::Complaint, Topic::Incident) => REPLY_INCIDENT,
            (Intent::Complaint, Topic::Order) => REPLY_ORDER,
            (Intent::Complaint, _) if matches!(PRODUCTS[meta.product].1, Cat::App) => REPLY_APP,
            (Intent::Complaint, _) => REPLY_DEVICE,
            (Intent::Question, _) => REPLY_QUESTION,
            (Intent::Praise, _) => REPLY_PRAISE,
            (Intent::Idea, _) => REPLY_IDEA,
            (Intent::Lead, _) => REPLY_LEAD,
            (Intent::Spam | Intent::Other, _) => REPLY_OTHER,
        }
    }

    /// A customer's own message in their thread (follow-up or reopening).
    fn customer_text(&mut self, meta: &RootMeta, tpl: &str, agent: usize) -> String {
        let platform = self.people[meta.person].platform;
        let ctx = Ctx {
            platform,
            product: meta.product,
            after_incident: false,
        };
        let text = fill_with(tpl, |key| match key {
            "agent" => AGENTS[agent].1.to_string(),
            _ => slot(&mut self.rng, key, ctx),
        });
        match platform {
            Platform::Mastodon => format!("{} {text}", platform.org_mention()),
            Platform::Webhook => {
                let first = &self.people[meta.person].first;
                format!("{}\n\n{first}", cap_first(&text))
            }
            _ => text,
        }
    }

    /// Replies, follow-ups, resolutions and reopenings for one conversation.
    fn thread(&mut self, meta: RootMeta) {
        let root = meta.draft;
        let root_at = self.drafts[root].at;
        let platform = self.drafts[root].platform;
        if meta.intent == Intent::Spam {
            return;
        }
        // Automated acknowledgement: the contact form always tries, social only off-hours.
        let ack_p = match platform {
            Platform::Webhook => 0.4,
            Platform::Bluesky | Platform::Mastodon if !in_hours(root_at) => 0.05,
            _ => 0.0,
        };
        if !meta.urgent && self.rng.random_bool(ack_p) {
            let at = root_at + Duration::seconds(self.rng.random_range(2..40));
            if at < self.limit {
                let text = if platform == Platform::Webhook {
                    self.ticket_ref += self.rng.random_range(1..7);
                    ACK_WEBHOOK.replace("{ref}", &format!("L-{}", self.ticket_ref))
                } else {
                    let t = *pick(&mut self.rng, ACKS_SOCIAL);
                    if platform == Platform::Mastodon {
                        format!("@{} {t}", self.people[meta.person].handle)
                    } else {
                        t.to_string()
                    }
                };
                self.reply(root, Who::Org, text, at, Direction::Outbound, true, None);
            }
        }
        // Never answered?
        let age_days = (self.limit - root_at).num_days();
        let mut p_skip = match meta.intent {
            Intent::Other => 0.4,
            Intent::Praise => 0.16,
            Intent::Idea => 0.12,
            Intent::Question => 0.06,
            Intent::Complaint => 0.03,
            Intent::Lead => 0.03,
            Intent::Spam => 1.0,
        };
        if age_days > 45 && matches!(meta.intent, Intent::Other | Intent::Praise | Intent::Idea) {
            p_skip += 0.1;
        }
        if meta.urgent {
            p_skip = 0.0;
        }
        if !meta.answer || self.rng.random_bool(p_skip) {
            return;
        }
        let slow = matches!(meta.intent, Intent::Lead | Intent::Idea | Intent::Praise);
        let at = self.reply_time(root_at, meta.urgent, slow);
        if at >= self.limit {
            return;
        }
        let mut agent = self.agent_for(meta.intent, at, meta.urgent);
        let tpl = match meta.hint {
            Some(answer) => answer,
            None => *pick(&mut self.rng, Self::first_reply_pool(&meta)),
        };
        let text = self.reply_text(&meta, agent, tpl);
        let mut last_out = self.reply(
            root,
            Who::Agent(agent),
            text,
            at,
            Direction::Outbound,
            false,
            None,
        );
        let mut last_at = at;
        let mut open_question = false;
        // Customer follow-up to the reply.
        let p_follow = match meta.intent {
            Intent::Complaint | Intent::Question | Intent::Lead => 0.32,
            _ => 0.05,
        };
        if self.rng.random_bool(p_follow) {
            let f_at = last_at
                + self.delay(&[
                    (40, 300, 3_600),
                    (40, 3_600, 8 * 3_600),
                    (20, 8 * 3_600, 30 * 3_600),
                ]);
            if f_at < self.limit {
                let negative = matches!(meta.intent, Intent::Complaint | Intent::Question)
                    && self.rng.random_bool(0.55);
                let (pool, label): (&[&str], Intent) = match (meta.intent, meta.topic) {
                    (Intent::Lead, _) => (FOLLOW_LEAD, Intent::Lead),
                    _ if !negative => (FOLLOW_POS, Intent::Praise),
                    (Intent::Question, _) => (FOLLOW_NEG_QUESTION, Intent::Question),
                    (_, Topic::Order) => (FOLLOW_NEG_ORDER, Intent::Complaint),
                    _ => (FOLLOW_NEG_DEVICE, Intent::Complaint),
                };
                let mut tpl = *pick(&mut self.rng, pool);
                while !platform.is_social() && tpl.contains("DM") {
                    tpl = *pick(&mut self.rng, pool);
                }
                let text = self.customer_text(&meta, tpl, agent);
                let follow = self.reply(
                    last_out,
                    Who::Person(meta.person),
                    text,
                    f_at,
                    Direction::Inbound,
                    false,
                    Some(label),
                );
                last_at = f_at;
                open_question = negative || meta.intent == Intent::Lead;
                let p_second = match (open_question, meta.urgent) {
                    (true, true) => 1.0,
                    (true, false) => 0.85,
                    (false, _) => 0.25,
                };
                if self.rng.random_bool(p_second) {
                    let s_at = self.reply_time(f_at, meta.urgent, false);
                    if s_at < self.limit {
                        if !meta.urgent && meta.intent != Intent::Lead && self.rng.random_bool(0.3)
                        {
                            agent = self.agent_for(meta.intent, s_at, false);
                        }
                        let pool = match (meta.intent, meta.topic) {
                            (Intent::Lead, _) => REPLY_SECOND_LEAD,
                            _ if !negative => REPLY_SECOND_POS,
                            (Intent::Question, _) => REPLY_SECOND_QUESTION,
                            (_, Topic::Order) => REPLY_SECOND_ORDER,
                            (_, Topic::Incident) => REPLY_SECOND_INCIDENT,
                            _ => REPLY_SECOND_DEVICE,
                        };
                        let tpl = *pick(&mut self.rng, pool);
                        let text = self.reply_text(&meta, agent, tpl);
                        last_out = self.reply(
                            follow,
                            Who::Agent(agent),
                            text,
                            s_at,
                            Direction::Outbound,
                            false,
                            None,
                        );
                        last_at = s_at;
                        open_question = false;
                    }
                }
            }
        }
        // Old conversations have mostly been closed; recent ones may still be pending.
        let p_resolve = if meta.urgent {
            1.0
        } else if (self.limit - last_at).num_days() > 7 {
            0.96
        } else {
            0.82
        };
        if open_question || !self.rng.random_bool(p_resolve) {
            return;
        }
        let after = meta.settle.map_or(last_at, |t| t.max(last_at));
        let Some(resolved) = self.resolve(root, after, agent) else {
            return;
        };
        // Reopened later by the same person replying to our last message.
        if !matches!(meta.topic, Topic::Device | Topic::Order) || !self.rng.random_bool(0.08) {
            return;
        }
        let r_at =
            resolved + self.delay(&[(60, 86_400, 4 * 86_400), (40, 4 * 86_400, 12 * 86_400)]);
        if r_at >= self.limit {
            return;
        }
        let pool = if meta.topic == Topic::Order {
            REOPEN_ORDER
        } else {
            REOPEN_DEVICE
        };
        let tpl = *pick(&mut self.rng, pool);
        let text = self.customer_text(&meta, tpl, agent);
        let reopen = self.reply(
            last_out,
            Who::Person(meta.person),
            text,
            r_at,
            Direction::Inbound,
            false,
            Some(Intent::Complaint),
        );
        if !self.rng.random_bool(0.75) {
            return;
        }
        let a_at = self.reply_time(r_at, meta.urgent, false);
        if a_at >= self.limit {
            return;
        }
        let tpl = *pick(&mut self.rng, REPLY_REOPEN);
        let text = self.reply_text(&meta, agent, tpl);
        self.reply(
            reopen,
            Who::Agent(agent),
            text,
            a_at,
            Direction::Outbound,
            false,
            None,
        );
        if self.rng.random_bool(0.8) {
            self.resolve(root, a_at, agent);
        }
    }

    /// Resolves a conversation some time after `after`, if that is before now.
    fn resolve(
        &mut self,
        root: usize,
        after: DateTime<Utc>,
        agent: usize,
    ) -> Option<DateTime<Utc>> {
        let at = after
            + self.delay(&[
                (30, 60, 1_800),
                (30, 1_800, 4 * 3_600),
                (25, 4 * 3_600, 24 * 3_600),
                (15, 24 * 3_600, 60 * 3_600),
            ]);
        let at = if in_hours(at) {
            at
        } else {
            next_open(at) + Duration::seconds(self.rng.random_range(60..3_600))
        };
        if at >= self.limit {
            return None;
        }
        self.resolutions.push((root, at, agent));
        Some(at)
    }

    /// High-reach complaints, their pile-ons and Lumen's quick answers.
    fn make_notables(&mut self) {
        for (i, &(handle, name, platform, followers, text, when, answered)) in
            NOTABLES.iter().enumerate()
        {
            let at = match when {
                When::Incident(m) => self.incident + Duration::minutes(m),
                When::Ago(m) => self.limit - Duration::minutes(m),
            };
            if at <= self.start || at >= self.limit {
                continue;
            }
            self.handles.insert(handle.to_string());
            let did = if platform == Platform::Bluesky {
                self.did()
            } else {
                String::new()
            };
            let person = self.push_person(Person {
                platform,
                handle: handle.to_string(),
                name: name.to_string(),
                first: name.split(' ').next().unwrap_or(name).to_string(),
                followers: Some(followers),
                did,
                persona: Persona::Notable,
            });
            let reshares = self.rng.random_range(followers / 1_000..followers / 250);
            let extra_replies = self.rng.random_range(followers / 8_000..followers / 2_500);
            let topic = match when {
                When::Incident(_) => Topic::Incident,
                When::Ago(_) => Topic::Device,
            };
            let draft = self.push(Draft {
                platform,
                who: Who::Person(person),
                text: text.to_string(),
                at,
                parent: None,
                direction: Direction::Inbound,
                automated: false,
                reshares,
                extra_replies,
                label: Some(Intent::Complaint),
                slug: "",
                fixed_id: None,
            });
            // Pile-on: other people reply to the complaint within hours.
            let window = (self.limit - at).num_seconds().min(10 * 3_600);
            let n = if window < 3_600 {
                self.rng.random_range(3..7)
            } else {
                self.rng.random_range(8..=30) + (followers / 200_000) as usize
            };
            let slot = PLATFORMS.iter().position(|x| *x == platform).unwrap_or(0);
            let mut last_pile = at;
            for _ in 0..n {
                let pool = &self.by_platform[slot];
                if pool.is_empty() {
                    break;
                }
                let who = pool[self.rng.random_range(0..pool.len())];
                if self.people[who].persona == Persona::Notable {
                    continue;
                }
                let u = self.rng.random::<f64>();
                let off = 60 + ((u * u) * (window - 120).max(1) as f64) as i64;
                let p_at = at + Duration::seconds(off);
                last_pile = last_pile.max(p_at);
                let tpl = *pick(&mut self.rng, PILE_ON);
                let ctx = Ctx {
                    platform,
                    product: 0,
                    after_incident: true,
                };
                let mut t = self.fill(tpl, ctx);
                if platform == Platform::Mastodon || self.rng.random_bool(0.3) {
                    t = format!("@{handle} {t}");
                }
                self.reply(
                    draft,
                    Who::Person(who),
                    t,
                    p_at,
                    Direction::Inbound,
                    false,
                    Some(Intent::Complaint),
                );
            }
            let meta = RootMeta {
                draft,
                person,
                intent: Intent::Complaint,
                topic,
                product: if matches!(when, When::Incident(_)) {
                    10
                } else {
                    11
                },
                urgent: true,
                answer: answered,
                hint: None,
                settle: Some(last_pile),
            };
            self.thread(meta);
            // Two of them say thanks publicly once it is fixed.
            if i == 0 || i == 4 {
                let t_at = at + Duration::hours(self.rng.random_range(20..40));
                if t_at < self.limit {
                    let reshares = self.rng.random_range(followers / 3_000..followers / 800);
                    self.push(Draft {
                        platform,
                        who: Who::Person(person),
                        text: NOTABLE_THANKS.to_string(),
                        at: t_at,
                        parent: None,
                        direction: Direction::Inbound,
                        automated: false,
                        reshares,
                        extra_replies: 0,
                        label: Some(Intent::Praise),
                        slug: "",
                        fixed_id: None,
                    });
                }
            }
        }
    }

    /// Lumen's own posts: tips and announcements, cross-posted, and blog posts.
    fn make_broadcasts(&mut self) {
        let days = (self.limit - self.start).num_days() + 1;
        for day in 0..days {
            let date = (self.start + Duration::days(day)).date_naive();
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            let n = if weekend {
                u32::from(self.rng.random_bool(0.4))
            } else {
                1 + u32::from(self.rng.random_bool(0.4))
            };
            for _ in 0..n {
                let h = self.rng.random_range(9..18);
                let m = self.rng.random_range(0..60);
                let Some(at) = date.and_hms_opt(h, m, 0).map(|n| n.and_utc()) else {
                    continue;
                };
                let tpl = *pick(&mut self.rng, BROADCASTS);
                self.broadcast(at, tpl);
            }
        }
        let specials: [(i64, &str); 3] = [
            (
                -9 * 60,
                "Firmware 4.2 is rolling out tonight: faster pairing, new scenes and better range ✨",
            ),
            (
                150,
                "We're aware some lights are showing offline after last night's 4.2 update. Our engineers are on it; power-cycling the hub helps. Updates here and on status.lumen.example",
            ),
            (
                26 * 60,
                "4.2.1 is rolling out now and fixes the disconnects some of you saw after 4.2. Sorry for the disruption, and thank you for your patience 💡",
            ),
        ];
        for (minutes, text) in specials {
            let at = self.incident + Duration::minutes(minutes);
            self.broadcast(at, text);
        }
        for &(slug, day) in BLOG_POSTS {
            let at = self.blog_time(day);
            if at <= self.start || at >= self.limit {
                continue;
            }
            let title = cap_first(&slug.replace('-', " "));
            self.push(Draft {
                platform: Platform::Rss,
                who: Who::Org,
                text: format!("New on the blog: {title}"),
                at,
                parent: None,
                direction: Direction::Outbound,
                automated: false,
                reshares: 0,
                extra_replies: 0,
                label: None,
                slug,
                fixed_id: Some(format!("https://lumen.example/blog/{slug}")),
            });
        }
    }

    /// One post on Bluesky, usually cross-posted to Mastodon a moment later.
    fn broadcast(&mut self, at: DateTime<Utc>, tpl: &str) {
        if at <= self.start || at >= self.limit {
            return;
        }
        let product = self.product_for(tpl);
        let ctx = Ctx {
            platform: Platform::Bluesky,
            product,
            after_incident: true,
        };
        let text = fill_with(tpl, |key| match key {
            "agent" => AGENTS[self.rng.random_range(0..10usize)].1.to_string(),
            _ => slot(&mut self.rng, key, ctx),
        });
        let cross = self.rng.random_bool(0.7);
        for platform in [Platform::Bluesky, Platform::Mastodon] {
            if platform == Platform::Mastodon && !cross {
                continue;
            }
            let at = if platform == Platform::Mastodon {
                at + Duration::seconds(self.rng.random_range(5..180))
            } else {
                at
            };
            if at >= self.limit {
                continue;
            }
            let reshares = self.rng.random_range(3..120);
            let extra_replies = self.rng.random_range(0..15);
            self.push(Draft {
                platform,
                who: Who::Org,
                text: text.clone(),
                at,
                parent: None,
                direction: Direction::Outbound,
                automated: false,
                reshares,
                extra_replies,
                label: None,
                slug: "",
                fixed_id: None,
            });
        }
    }

    /// Assigns ids, sorts by time, and builds the result.
    fn finish(mut self) -> (DemoData, Vec<Option<Intent>>) {
        let mut children = vec![0u64; self.drafts.len()];
        for d in &self.drafts {
            if let Some(p) = d.parent {
                children[p] += 1;
            }
        }
        let mut seen: HashSet<(u8, u64, u64)> = HashSet::with_capacity(self.drafts.len());
        let mut comment_no: u64 = 18_000;
        let mut ids = Vec::with_capacity(self.drafts.len());
        let mut urls = Vec::with_capacity(self.drafts.len());
        for i in 0..self.drafts.len() {
            let (id, url) = self.make_id(i, &mut seen, &mut comment_no);
            ids.push(id);
            urls.push(url);
        }
        let mut order: Vec<usize> = (0..self.drafts.len()).collect();
        order.sort_by_key(|&i| (self.drafts[i].at, i));
        let mut messages = Vec::with_capacity(order.len());
        let mut labels = Vec::with_capacity(order.len());
        let people = &self.people;
        for &i in &order {
            let d = &mut self.drafts[i];
            let (author, author_name, followers) = match d.who {
                Who::Person(p) => {
                    let p = &people[p];
                    (p.handle.clone(), Some(p.name.clone()), p.followers)
                }
                Who::Agent(a) => (
                    AGENTS[a].0.to_string(),
                    Some(format!("{} · Lumen {}", AGENTS[a].1, AGENTS[a].2.label())),
                    d.platform.org_followers(),
                ),
                Who::Org => (
                    d.platform.org_handle().to_string(),
                    Some("Lumen".to_string()),
                    d.platform.org_followers(),
                ),
            };
            messages.push(NewMessage {
                platform: d.platform.name().to_string(),
                platform_id: ids[i].clone(),
                author,
                author_name,
                followers,
                text: std::mem::take(&mut d.text),
                created_at: d.at,
                in_reply_to: d.parent.map(|p| ids[p].clone()),
                reshares: d.reshares,
                replies: children[i] + d.extra_replies,
                direction: d.direction,
                automated: d.automated,
                url: urls[i].take(),
            });
            labels.push(d.label);
        }
        let mut res = std::mem::take(&mut self.resolutions);
        res.sort_by_key(|r| (r.1, r.0));
        let resolutions = res
            .into_iter()
            .map(|(root, at, agent)| Resolution {
                platform: self.drafts[root].platform.name().to_string(),
                root_platform_id: ids[root].clone(),
                at,
                actor: AGENTS[agent].0.to_string(),
            })
            .collect();
        let org_accounts = PLATFORMS
            .iter()
            .map(|p| p.org_handle().to_string())
            .collect();
        (
            DemoData {
                messages,
                resolutions,
                org_accounts,
            },
            labels,
        )
    }

    /// A platform-realistic id (and link) for draft `i`, unique per platform: `seen`
    /// holds the numeric part of every id given out (platform, author, number).
    fn make_id(
        &mut self,
        i: usize,
        seen: &mut HashSet<(u8, u64, u64)>,
        comment_no: &mut u64,
    ) -> (String, Option<String>) {
        let d = &self.drafts[i];
        if let Some(id) = &d.fixed_id {
            return (id.clone(), Some(id.clone()));
        }
        let (platform, at, who, slug) = (d.platform, d.at, d.who, d.slug);
        let secs = at.timestamp().max(0) as u64;
        let (did, handle) = match who {
            Who::Person(p) => (self.people[p].did.as_str(), self.people[p].handle.as_str()),
            _ => (ORG_DID, platform.org_handle()),
        };
        let author = match who {
            Who::Person(p) => p as u64,
            _ => u64::MAX,
        };
        match platform {
            Platform::Bluesky => {
                let v = loop {
                    let micros = secs * 1_000_000 + self.rng.random_range(0..1_000_000u64);
                    let v = (micros << 10) | self.rng.random_range(0..1_024u64);
                    if seen.insert((0, author, v)) {
                        break v;
                    }
                };
                let tid = tid(v);
                (
                    format!("at://{did}/app.bsky.feed.post/{tid}"),
                    Some(format!("https://bsky.app/profile/{handle}/post/{tid}")),
                )
            }
            Platform::Mastodon => {
                let id = loop {
                    let millis = secs * 1_000 + self.rng.random_range(0..1_000u64);
                    let id = (millis << 16) | self.rng.random_range(0..65_536u64);
                    if seen.insert((1, 0, id)) {
                        break id;
                    }
                };
                let url = match handle.split_once('@') {
                    Some((user, inst)) => format!("https://{inst}/@{user}/{id}"),
                    None => format!("https://mastodon.social/@{handle}/{id}"),
                };
                (id.to_string(), Some(url))
            }
            Platform::Rss => {
                // A counter that only grows: unique by construction.
                *comment_no += self.rng.random_range(1..4u64);
                let id = format!("https://lumen.example/blog/{slug}#comment-{comment_no}");
                (id.clone(), Some(id))
            }
            Platform::Webhook => loop {
                let hi: u64 = self.rng.random();
                let lo: u64 = self.rng.random();
                if seen.insert((3, hi, lo)) {
                    break (uuid(hi, lo), None);
                }
            },
        }
    }
}

/// Formats 128 random bits as a version-4 UUID.
fn uuid(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// Encodes a 64-bit value as a 13-character base32-sortable AT Protocol TID.
fn tid(v: u64) -> String {
    const ALPHA: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    (0..13)
        .map(|i| {
            let shift = 60 - 5 * i;
            char::from(ALPHA[((v >> shift) & 31) as usize])
        })
        .collect()
}

/// The text for one template slot.
fn slot(rng: &mut ChaCha8Rng, key: &str, c: Ctx) -> String {
    let cat = PRODUCTS[c.product].1;
    match key {
        "org" => c.platform.org_mention().to_string(),
        "p" | "x" | "l" => PRODUCTS[c.product].0.to_string(),
        "P" | "X" | "L" => cap_first(PRODUCTS[c.product].0),
        "ls" => plural(PRODUCTS[c.product].0),
        "i" => pick(rng, issues(cat)).to_string(),
        "I" => pick(rng, issues(cat)).to_uppercase(),
        "d" => {
            if c.after_incident && rng.random_bool(0.15) {
                pick(rng, DETAILS_AFTER_INCIDENT).to_string()
            } else if rng.random_bool(0.55) {
                pick(rng, DETAILS).to_string()
            } else {
                String::new()
            }
        }
        "s" => pick(rng, SENTENCES).to_string(),
        "angry" => pick(rng, ANGRY).to_string(),
        "eneg" => {
            if rng.random_bool(0.45) {
                pick(rng, EMOJI_NEG).to_string()
            } else {
                String::new()
            }
        }
        "epos" => {
            if rng.random_bool(0.6) {
                pick(rng, EMOJI_POS).to_string()
            } else {
                String::new()
            }
        }
        "w" => rng.random_range(2..=6u32).to_string(),
        "days" => rng.random_range(3..=21u32).to_string(),
        "n" => pick(
            rng,
            &[
                20u32, 25, 30, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300, 400, 500,
            ],
        )
        .to_string(),
        "ns" => rng.random_range(2..=12u32).to_string(),
        "nb" => rng.random_range(4..=30u32).to_string(),
        "order" => format!("#LU-{}", rng.random_range(100_000..1_000_000u32)),
        "ticket" => format!("#{}", rng.random_range(20_000..100_000u32)),
        "comp" => pick(rng, COMPETITORS).to_string(),
        "eco" => pick(rng, ECOSYSTEMS).to_string(),
        "feature" => pick(rng, FEATURES).to_string(),
        "hwf" => pick(rng, HW_FEATURES).to_string(),
        "act" => pick(rng, ACTIONS).to_string(),
        "country" => pick(rng, COUNTRIES).to_string(),
        "room" => pick(rng, ROOMS).to_string(),
        "event" => pick(rng, EVENTS).to_string(),
        "price" => pick(rng, PRICES).to_string(),
        "agent" => AGENTS[rng.random_range(0..10usize)].1.to_string(),
        "url" => {
            const ALNUM: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            let mut s = pick(rng, SPAM_URLS).to_string();
            for _ in 0..7 {
                s.push(char::from(ALNUM[rng.random_range(0..ALNUM.len())]));
            }
            s
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-02T14:37:21.5Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn same_seed_same_output() {
        let a = generate(42, now());
        let b = generate(42, now());
        assert_eq!(a, b);
        let c = generate(43, now());
        assert_ne!(a.messages, c.messages);
    }

    #[test]
    fn counts_and_window() {
        let now = now();
        let d = generate(1, now);
        assert!(d.messages.len() >= 20_000, "{} messages", d.messages.len());
        let authors: HashSet<&str> = d
            .messages
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .map(|m| m.author.as_str())
            .collect();
        assert!(authors.len() >= 5_000, "{} authors", authors.len());
        let platforms: HashSet<&str> = d.messages.iter().map(|m| m.platform.as_str()).collect();
        assert!(platforms.len() >= 3, "{platforms:?}");
        let earliest = now - Duration::days(90);
        for m in &d.messages {
            assert!(m.created_at > earliest && m.created_at < now, "{m:?}");
        }
        for r in &d.resolutions {
            assert!(r.at > earliest && r.at < now, "{r:?}");
        }
        assert!(
            d.messages
                .windows(2)
                .all(|w| w[0].created_at <= w[1].created_at)
        );
        assert_eq!(d.org_accounts.len(), 4);
    }

    #[test]
    fn high_reach_complaints() {
        let (d, labels) = build(1, now());
        let n = d
            .messages
            .iter()
            .zip(&labels)
            .filter(|(m, l)| {
                **l == Some(Intent::Complaint)
                    && m.in_reply_to.is_none()
                    && m.followers.is_some_and(|f| f > 100_000)
            })
            .count();
        assert!(n >= 5, "{n}");
    }

    #[test]
    fn replies_point_backwards_and_ids_unique() {
        let midnight = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap();
        for (seed, now) in [(7, now()), (0, midnight)] {
            check_threads(&generate(seed, now), now);
        }
    }

    fn check_threads(d: &DemoData, now: DateTime<Utc>) {
        assert!(d.messages.iter().all(|m| m.created_at < now));
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        for m in &d.messages {
            if let Some(parent) = &m.in_reply_to {
                assert!(
                    seen.contains(&(m.platform.as_str(), parent.as_str())),
                    "{m:?} replies to an unknown or later message"
                );
            }
            assert!(
                seen.insert((m.platform.as_str(), m.platform_id.as_str())),
                "duplicate id {}",
                m.platform_id
            );
        }
        let roots: HashSet<(&str, &str)> = d
            .messages
            .iter()
            .filter(|m| m.in_reply_to.is_none())
            .map(|m| (m.platform.as_str(), m.platform_id.as_str()))
            .collect();
        for r in &d.resolutions {
            assert!(roots.contains(&(r.platform.as_str(), r.root_platform_id.as_str())));
        }
    }

    #[test]
    fn reopened_conversations_exist() {
        let d = generate(1, now());
        let by_id: HashMap<(&str, &str), &NewMessage> = d
            .messages
            .iter()
            .map(|m| ((m.platform.as_str(), m.platform_id.as_str()), m))
            .collect();
        let root_of = |m: &NewMessage| {
            let mut cur = m;
            while let Some(p) = &cur.in_reply_to {
                cur = by_id[&(cur.platform.as_str(), p.as_str())];
            }
            (cur.platform.clone(), cur.platform_id.clone())
        };
        // Inbound replies to our own messages, by conversation root.
        let mut replies_to_us: HashMap<(String, String), Vec<DateTime<Utc>>> = HashMap::new();
        for m in &d.messages {
            let Some(p) = &m.in_reply_to else { continue };
            if m.direction == Direction::Inbound
                && by_id[&(m.platform.as_str(), p.as_str())].direction == Direction::Outbound
            {
                replies_to_us
                    .entry(root_of(m))
                    .or_default()
                    .push(m.created_at);
            }
        }
        let reopened = d
            .resolutions
            .iter()
            .filter(|r| {
                replies_to_us
                    .get(&(r.platform.clone(), r.root_platform_id.clone()))
                    .is_some_and(|ts| ts.iter().any(|t| *t > r.at))
            })
            .count();
        assert!(reopened >= 5, "{reopened}");
    }

    #[test]
    fn texts_fit_platform_limits_and_vary() {
        let d = generate(1, now());
        for m in &d.messages {
            let limit = match m.platform.as_str() {
                "bluesky" => 300,
                "mastodon" => 500,
                _ => 2_000,
            };
            assert!(m.text.chars().count() <= limit, "{}", m.text);
            assert!(!m.text.contains('{'), "{}", m.text);
        }
        let distinct: HashSet<&str> = d
            .messages
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .map(|m| m.text.as_str())
            .collect();
        assert!(distinct.len() > 5_000, "{}", distinct.len());
        let automated = d.messages.iter().filter(|m| m.automated).count();
        assert!(automated > 100);
    }
}

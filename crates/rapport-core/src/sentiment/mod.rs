//! A VADER sentiment analyser that gives the same scores as the Python package
//! `vaderSentiment` 3.3.2 (Hutto & Gilbert, ICWSM 2014).
//!
//! This is a line-by-line port of `SentimentIntensityAnalyzer.polarity_scores`, with its
//! lexicons (`data/vader_lexicon.txt`, `data/emoji_utf8_lexicon.txt`, MIT-licensed, see
//! `data/LICENSE-vaderSentiment.txt`) embedded in the binary. The parity test
//! (`tests/sentiment_parity.rs`) compares it with the Python package's output on a few
//! thousand sentences (`tools/vader_reference.py` regenerates that reference).
//!
//! Faithfulness means replicating the package's quirks, not fixing them:
//! - emoji are replaced by their descriptions one code point at a time, so only
//!   single-code-point emoji are recognised (`❤️` is `❤` + U+FE0F: the heart is translated,
//!   the selector stays glued to "red heart"), and descriptions count in the `!` total
//!   (`🆙` is "UP! button");
//! - tokens are whitespace-split (Python's `str.split()`), and `string.punctuation` is
//!   stripped from their ends only when at least three characters remain, so `"good."`
//!   becomes `good` but `"ok."` stays `ok.` and misses the lexicon;
//! - lexicon keys are matched against the lowered token as written in the lexicon file,
//!   so entries with capitals (`:D`, `XD`, `O_o`...) can never match; where a lowercase
//!   twin exists (`:d`, `xd`) that one scores;
//! - the "but" rule finds each value's *first* equal occurrence in the list while it
//!   rewrites it (Python's `list.index`), so repeated valences get scaled several times
//!   or not at all;
//! - the "never so/this" check at distance three multiplies by 1.25 whenever the word
//!   right before is "so" or "this", "never" or not (an operator-precedence slip: "it was
//!   this good" beats "it was good"), and negation/idiom checks only run for a preceding
//!   word that is not itself in the lexicon;
//! - `SENTIMENT_LADEN_IDIOMS` ("cut the mustard", "hand to mouth", ...) are never
//!   applied in 3.3.2, and the one-word special case "badass" never matches;
//! - a zero valence in ALL CAPS gets −0.733 ("if valence > 0 add, else subtract"): "NO"
//!   before another lexicon word is set to 0, then pushed negative ("NO good" scores
//!   lower than "no good");
//! - scores are rounded with Python's `round` (correctly rounded, ties to even), the sum
//!   of valences is a plain left-to-right double sum as in CPython 3.11 (3.12+ uses a
//!   compensated sum that may differ in the last bit).

mod pystr;
mod rules;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use serde::Serialize;

use crate::model::Scores;
use rules::{C_INCR, N_SCALAR};

/// `vader_lexicon.txt` from vaderSentiment 3.3.2, unchanged.
const VADER_LEXICON: &str = include_str!("../../data/vader_lexicon.txt");
/// `emoji_utf8_lexicon.txt` from vaderSentiment 3.3.2, unchanged.
const EMOJI_LEXICON: &str = include_str!("../../data/emoji_utf8_lexicon.txt");

/// A small, fast multiplicative hasher (the `FxHash` scheme). The maps it serves are built
/// once from fixed lexicons and only queried with user text, so hash flooding cannot
/// degrade them.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// What one lowered token is, looked up once: its lexicon valence, its booster value and
/// whether it is in `NEGATE`.
#[derive(Debug, Clone, Copy, Default)]
struct WordInfo {
    lexicon: Option<f64>,
    booster: Option<f64>,
    negate: bool,
}

/// A VADER sentiment analyser: the lexicon, the emoji descriptions and VADER's rules.
///
/// [`Analyzer::new`] parses the embedded lexicons (about 7,500 words and 3,600 emoji) into
/// hash maps: about 3 ms in a release build and under a megabyte. Build it once per process, or
/// use [`shared`].
#[derive(Clone)]
pub struct Analyzer {
    /// Lowered-token lookup: lexicon valence, booster value, negation word.
    words: FastMap<&'static str, WordInfo>,
    /// Single-code-point emoji to their textual description.
    emojis: FastMap<char, &'static str>,
    /// The smallest emoji code point: characters below it are never looked up.
    min_emoji: char,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("words", &self.words.len())
            .field("emojis", &self.emojis.len())
            .finish()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

/// The sentiment of a text with the valence each word carried into the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// VADER's four scores, as [`Analyzer::scores`] returns them.
    pub scores: Scores,
    /// One entry per token that carried a non-zero valence, in text order.
    pub words: Vec<WordValence>,
}

/// One token and its valence after every VADER adjustment (boosters, capitals, negation,
/// idioms, "least", "but"), before punctuation emphasis and normalisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordValence {
    /// The token as VADER saw it (emoji already replaced by their descriptions, outer
    /// punctuation stripped as VADER strips it).
    pub word: String,
    /// Its valence; positive is positive sentiment.
    pub valence: f64,
}

/// The process-wide analyser, built on first use.
pub fn shared() -> &'static Analyzer {
    static SHARED: OnceLock<Analyzer> = OnceLock::new();
    SHARED.get_or_init(Analyzer::new)
}

/// One token of `SentiText.words_and_emoticons` with what the rules ask of it.
struct Token<'a> {
    /// As in the text.
    word: &'a str,
    /// `word.lower()`.
    lower: &'a str,
    /// `word.isupper()`.
    upper: bool,
    /// Lookups on `lower`.
    info: WordInfo,
}

impl Token<'_> {
    /// `negated([word])`: a negation word, or anything containing "n't".
    #[inline]
    fn negated(&self) -> bool {
        self.info.negate || self.lower.contains("n't")
    }
}

impl Analyzer {
    /// Builds the analyser from the embedded lexicons (see the type's docs for the cost).
    pub fn new() -> Self {
        let mut words: FastMap<&'static str, WordInfo> =
            FastMap::with_capacity_and_hasher(8192, BuildHasherDefault::default());
        // make_lex_dict: later duplicates win.
        for line in VADER_LEXICON.trim_end_matches('\n').split('\n') {
            if line.is_empty() {
                continue;
            }
            let mut fields = pystr::strip_whitespace(line).split('\t');
            let word = fields.next().unwrap_or_default();
            let Some(measure) = fields
                .next()
                .and_then(|m| pystr::strip_whitespace(m).parse::<f64>().ok())
            else {
                continue;
            };
            words.entry(word).or_default().lexicon = Some(measure);
        }
        for &(word, value) in rules::BOOSTERS {
            words.entry(word).or_default().booster = Some(value);
        }
        for &word in rules::NEGATE {
            words.entry(word).or_default().negate = true;
        }

        let mut emojis: FastMap<char, &'static str> =
            FastMap::with_capacity_and_hasher(4096, BuildHasherDefault::default());
        for line in EMOJI_LEXICON.trim_end_matches('\n').split('\n') {
            let mut fields = pystr::strip_whitespace(line).split('\t');
            let (Some(emoji), Some(description)) = (fields.next(), fields.next()) else {
                continue;
            };
            // The Python looks characters up one at a time: multi-code-point keys never match.
            let mut chars = emoji.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                emojis.insert(c, description);
            }
        }
        let min_emoji = emojis.keys().copied().min().unwrap_or(char::MAX);
        Self {
            words,
            emojis,
            min_emoji,
        }
    }

    /// VADER's compound, pos, neu and neg scores for `text`, equal to
    /// `SentimentIntensityAnalyzer().polarity_scores(text)` of vaderSentiment 3.3.2.
    pub fn scores(&self, text: &str) -> Scores {
        self.analyse(text, None)
    }

    /// The lexicon's valence of a word as written (looked up lowercased, as VADER
    /// does), before any of VADER's rules; `None` for a word the lexicon lacks.
    pub fn lexicon_valence(&self, word: &str) -> Option<f64> {
        if pystr::is_ascii_lower(word) {
            return self.words.get(word).and_then(|w| w.lexicon);
        }
        let mut lower = String::with_capacity(word.len());
        pystr::lower_into(&mut lower, word);
        self.words.get(lower.as_str()).and_then(|w| w.lexicon)
    }

    /// The scores plus the valence each token carried after all of VADER's adjustments.
    pub fn explain(&self, text: &str) -> Explanation {
        let mut words = Vec::new();
        let scores = self.analyse(text, Some(&mut words));
        Explanation { scores, words }
    }

    /// `polarity_scores`'s emoji step: each character that is an emoji becomes its
    /// description, preceded by a space unless the previous character was a space (or an
    /// emoji's description: those are not followed by one).
    fn translate_emoji<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.min_emoji > '\x7f' && text.is_ascii() {
            return Cow::Borrowed(text);
        }
        let is_emoji = |c: char| c >= self.min_emoji && self.emojis.contains_key(&c);
        let Some((first, _)) = text.char_indices().find(|&(_, c)| is_emoji(c)) else {
            return Cow::Borrowed(text);
        };
        let mut out = String::with_capacity(text.len() + 64);
        out.push_str(&text[..first]);
        let mut prev_space = first == 0 || text[..first].ends_with(' ');
        for c in text[first..].chars() {
            match self.emojis.get(&c) {
                Some(description) if c >= self.min_emoji => {
                    if !prev_space {
                        out.push(' ');
                    }
                    out.push_str(description);
                    prev_space = false;
                }
                _ => {
                    out.push(c);
                    prev_space = c == ' ';
                }
            }
        }
        Cow::Owned(out)
    }

    fn analyse(&self, text: &str, explain: Option<&mut Vec<WordValence>>) -> Scores {
        let translated = self.translate_emoji(text);
        let text = pystr::strip_whitespace(&translated);

        // SentiText._words_and_emoticons, then the lowered forms in one buffer.
        let raw: Vec<&str> = pystr::split_whitespace(text)
            .map(pystr::strip_punc_if_word)
            .collect();
        if raw.is_empty() {
            return Scores {
                compound: 0.0,
                pos: 0.0,
                neu: 0.0,
                neg: 0.0,
            };
        }
        let mut lowered = String::new();
        let mut spans: Vec<Option<(usize, usize)>> = Vec::with_capacity(raw.len());
        for word in &raw {
            if pystr::is_ascii_lower(word) {
                spans.push(None);
            } else {
                let start = lowered.len();
                pystr::lower_into(&mut lowered, word);
                spans.push(Some((start, lowered.len())));
            }
        }
        let tokens: Vec<Token<'_>> = raw
            .iter()
            .zip(&spans)
            .map(|(&word, span)| {
                let lower = match *span {
                    Some((start, end)) => &lowered[start..end],
                    None => word,
                };
                Token {
                    word,
                    lower,
                    upper: pystr::is_upper(word),
                    info: self.words.get(lower).copied().unwrap_or_default(),
                }
            })
            .collect();

        // allcap_differential: some, but not all, tokens are ALL CAPS.
        let n = tokens.len();
        let allcap = tokens.iter().filter(|t| t.upper).count();
        let is_cap_diff = allcap > 0 && allcap < n;

        let mut sentiments: Vec<f64> = Vec::with_capacity(n);
        for (i, token) in tokens.iter().enumerate() {
            if token.info.booster.is_some()
                || (i + 1 < n && token.lower == "kind" && tokens[i + 1].lower == "of")
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(sentiment_valence(&tokens, i, is_cap_diff));
        }

        but_check(&tokens, &mut sentiments);

        if let Some(words) = explain {
            words.extend(
                tokens
                    .iter()
                    .zip(&sentiments)
                    .filter(|&(_, &v)| v != 0.0)
                    .map(|(t, &valence)| WordValence {
                        word: t.word.to_string(),
                        valence,
                    }),
            );
        }

        score_valence(&sentiments, text)
    }
}

/// `SentimentIntensityAnalyzer.sentiment_valence` for token `i`.
fn sentiment_valence(t: &[Token<'_>], i: usize, is_cap_diff: bool) -> f64 {
    let item = &t[i];
    let Some(lexicon_valence) = item.info.lexicon else {
        return 0.0;
    };
    let n = t.len();
    let mut valence = lexicon_valence;

    // "no" before another lexicon word negates it rather than scoring itself.
    if item.lower == "no" && i != n - 1 && t[i + 1].info.lexicon.is_some() {
        valence = 0.0;
    }
    if (i > 0 && t[i - 1].lower == "no")
        || (i > 1 && t[i - 2].lower == "no")
        || (i > 2 && t[i - 3].lower == "no" && matches!(t[i - 1].lower, "or" | "nor"))
    {
        valence = lexicon_valence * N_SCALAR;
    }

    if item.upper && is_cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }

    for start_i in 0..3 {
        if i > start_i && t[i - (start_i + 1)].info.lexicon.is_none() {
            let mut s = scalar_inc_dec(&t[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, t, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, t, i);
            }
        }
    }

    least_check(valence, t, i)
}

/// `scalar_inc_dec`: the push a booster or dampener gives the valence after it.
#[inline]
fn scalar_inc_dec(word: &Token<'_>, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(mut scalar) = word.info.booster else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar *= -1.0;
    }
    if word.upper && is_cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

/// `_negation_check`, including its precedence slip for `start_i == 2`.
fn negation_check(mut valence: f64, t: &[Token<'_>], start_i: usize, i: usize) -> f64 {
    let w = |k: usize| t[k].lower;
    match start_i {
        0 => {
            if t[i - 1].negated() {
                valence *= N_SCALAR;
            }
        }
        1 => {
            if w(i - 2) == "never" && matches!(w(i - 1), "so" | "this") {
                valence *= 1.25;
            } else if w(i - 2) == "without" && w(i - 1) == "doubt" {
            } else if t[i - 2].negated() {
                valence *= N_SCALAR;
            }
        }
        _ => {
            if (w(i - 3) == "never" && matches!(w(i - 2), "so" | "this"))
                || matches!(w(i - 1), "so" | "this")
            {
                valence *= 1.25;
            } else if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") {
            } else if t[i - 3].negated() {
                valence *= N_SCALAR;
            }
        }
    }
    valence
}

/// `_special_idioms_check` (only reached for `i >= 3`).
fn special_idioms_check(mut valence: f64, t: &[Token<'_>], i: usize) -> f64 {
    let w = |k: usize| t[k].lower;
    let (w3, w2, w1, w0) = (w(i - 3), w(i - 2), w(i - 1), w(i));
    // onezero, twoonezero, twoone, threetwoone, threetwo: the first match wins.
    let first = rules::special_case2(w1, w0)
        .or_else(|| rules::special_case3(w2, w1, w0))
        .or_else(|| rules::special_case2(w2, w1))
        .or_else(|| rules::special_case3(w3, w2, w1))
        .or_else(|| rules::special_case2(w3, w2));
    if let Some(v) = first {
        valence = v;
    }
    let n = t.len();
    if n - 1 > i
        && let Some(v) = rules::special_case2(w0, w(i + 1))
    {
        valence = v;
    }
    if n - 1 > i + 1
        && let Some(v) = rules::special_case3(w0, w(i + 1), w(i + 2))
    {
        valence = v;
    }
    // Booster bigrams ("kind of", "sort of", "just enough") in threetwo, then twoone.
    if let Some(b) = rules::booster_bigram(w3, w2) {
        valence += b;
    }
    if let Some(b) = rules::booster_bigram(w2, w1) {
        valence += b;
    }
    valence
}

/// `_least_check`: "least" before a word negates it, unless "at least" / "very least".
fn least_check(mut valence: f64, t: &[Token<'_>], i: usize) -> f64 {
    let least_before = i > 0 && t[i - 1].info.lexicon.is_none() && t[i - 1].lower == "least";
    if i > 1 && least_before {
        if t[i - 2].lower != "at" && t[i - 2].lower != "very" {
            valence *= N_SCALAR;
        }
    } else if least_before {
        valence *= N_SCALAR;
    }
    valence
}

/// `_but_check`, with its `list.index` behaviour: for each position in turn, the *first*
/// entry equal to the value there is the one scaled (by 0.5 before the first "but", 1.5
/// after it).
fn but_check(t: &[Token<'_>], sentiments: &mut [f64]) {
    let Some(bi) = t.iter().position(|x| x.lower == "but") else {
        return;
    };
    for k in 0..sentiments.len() {
        let v = sentiments[k];
        if v == 0.0 {
            // Rewrites the first zero to a zero: nothing changes (bar the sign of zero,
            // which no later step can observe).
            continue;
        }
        let si = sentiments[..=k].iter().position(|&x| x == v).unwrap_or(k);
        if si < bi {
            sentiments[si] = v * 0.5;
        } else if si > bi {
            sentiments[si] = v * 1.5;
        }
    }
}

/// `_punctuation_emphasis`: up to four `!` at 0.292 each; two or three `?` at 0.18 each,
/// more than three 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep, mut qm) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'!' => ep += 1,
            b'?' => qm += 1,
            _ => {}
        }
    }
    let ep_amplifier = ep.min(4) as f64 * 0.292;
    let qm_amplifier = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep_amplifier + qm_amplifier
}

/// `normalize` with alpha = 15.
#[inline]
fn normalize(score: f64) -> f64 {
    let norm = score / (score * score + 15.0).sqrt();
    norm.clamp(-1.0, 1.0)
}

/// `score_valence` (with `_sift_sentiment_scores`), in the same order of floating-point
/// operations, then Python's rounding.
fn score_valence(sentiments: &[f64], text: &str) -> Scores {
    let mut sum_s = 0.0;
    for &s in sentiments {
        sum_s += s;
    }
    let punct = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct;
    } else if sum_s < 0.0 {
        sum_s -= punct;
    }
    let compound = normalize(sum_s);

    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct;
    }
    let neu_count = neu_count as f64;
    let total = pos_sum + neg_sum.abs() + neu_count;
    let pos = (pos_sum / total).abs();
    let neg = (neg_sum / total).abs();
    let neu = (neu_count / total).abs();

    Scores {
        compound: pystr::py_round(compound, 4),
        pos: pystr::py_round(pos, 3),
        neu: pystr::py_round(neu, 3),
        neg: pystr::py_round(neg, 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> (f64, f64, f64, f64) {
        let r = shared().scores(text);
        (r.compound, r.pos, r.neu, r.neg)
    }

    #[test]
    fn package_demo_sentences() {
        // From vaderSentiment 3.3.2's own demo, scored by the Python package.
        assert_eq!(
            s("VADER is smart, handsome, and funny."),
            (0.8316, 0.746, 0.254, 0.0)
        );
        assert_eq!(
            s("VADER is VERY SMART, handsome, and FUNNY!!!"),
            (0.9342, 0.767, 0.233, 0.0)
        );
        assert_eq!(
            s(
                "The plot was good, but the characters are uncompelling and the dialog is not great."
            ),
            (-0.7042, 0.094, 0.579, 0.327)
        );
        assert_eq!(s("Today SUX!"), (-0.5461, 0.0, 0.221, 0.779));
        assert_eq!(
            s("Catch utf-8 emoji such as 💘 and 💋 and 😁"),
            (0.875, 0.417, 0.583, 0.0)
        );
        assert_eq!(s(""), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(s("   "), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn explain_lists_nonzero_words() {
        let e = shared().explain("The book was good, but the ending was bad.");
        let words: Vec<&str> = e.words.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(words, ["good", "bad"]);
        assert!(e.words[0].valence > 0.0 && e.words[1].valence < 0.0);
        assert_eq!(
            e.scores,
            shared().scores("The book was good, but the ending was bad.")
        );
    }
}

//! The index's fields, its tokenizer (the core's, so queries and index agree on what a
//! word is), and how a stored message becomes a document.

use rapport_core::SentimentBand;
use rapport_core::query::{Field as QField, normalize_keyword, tokenize};
use rapport_store::SearchRow;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, TantivyDocument};

/// The tokenizer's name in the index.
pub const TOKENIZER: &str = "rapport";

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The message id (indexed: replaced by it; fast: read back from hits).
    pub id: Field,
    /// The conversation.
    pub conversation: Field,
    /// Milliseconds since the epoch.
    pub created_at: Field,
    /// The text, by the rapport tokenizer, with positions for phrases.
    pub text: Field,
    /// Keyword fields, matched whole.
    pub author: Field,
    /// The platform.
    pub platform: Field,
    /// The intent.
    pub intent: Field,
    /// The sentiment band.
    pub sentiment: Field,
    /// The conversation's team.
    pub team: Field,
    /// inbound / outbound.
    pub direction: Field,
}

impl Fields {
    /// The schema and its fields.
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let text_options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            id: b.add_i64_field("id", INDEXED | FAST),
            conversation: b.add_i64_field("conversation", INDEXED | FAST),
            created_at: b.add_i64_field("created_at", INDEXED | FAST),
            text: b.add_text_field("text", text_options),
            author: b.add_text_field(QField::Author.as_str(), STRING),
            platform: b.add_text_field(QField::Platform.as_str(), STRING),
            intent: b.add_text_field(QField::Intent.as_str(), STRING),
            sentiment: b.add_text_field(QField::Sentiment.as_str(), STRING),
            team: b.add_text_field(QField::Team.as_str(), STRING),
            direction: b.add_text_field("direction", STRING),
        };
        (b.build(), fields)
    }

    /// The index field of a query's keyword field.
    pub fn keyword(&self, f: QField) -> Field {
        match f {
            QField::Author => self.author,
            QField::Platform => self.platform,
            QField::Intent => self.intent,
            QField::Sentiment => self.sentiment,
            QField::Team => self.team,
        }
    }

    /// A stored message as a document.
    pub fn document(&self, row: &SearchRow) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_i64(self.id, row.id);
        if let Some(c) = row.conversation {
            d.add_i64(self.conversation, c);
        }
        d.add_i64(self.created_at, row.created_at);
        d.add_text(self.text, &row.text);
        d.add_text(self.author, normalize_keyword(QField::Author, &row.author));
        d.add_text(
            self.platform,
            normalize_keyword(QField::Platform, &row.platform),
        );
        d.add_text(self.intent, normalize_keyword(QField::Intent, &row.intent));
        d.add_text(self.sentiment, SentimentBand::of(row.compound).as_str());
        if let Some(t) = &row.team {
            d.add_text(self.team, normalize_keyword(QField::Team, t));
        }
        d.add_text(self.direction, &row.direction);
        d
    }
}

/// Registers the tokenizer with an opened index (tantivy does not store it).
pub fn register_tokenizer(index: &Index) {
    index.tokenizers().register(TOKENIZER, RapportTokenizer);
}

/// [`rapport_core::query::tokenize`] as a tantivy tokenizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct RapportTokenizer;

/// The tokens of one text.
pub struct RapportTokens {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for RapportTokenizer {
    type TokenStream<'a> = RapportTokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> RapportTokens {
        let tokens = tokenize(text)
            .into_iter()
            .enumerate()
            .map(|(position, t)| Token {
                offset_from: t.start,
                offset_to: t.end,
                position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        RapportTokens { tokens, next: 0 }
    }
}

impl TokenStream for RapportTokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

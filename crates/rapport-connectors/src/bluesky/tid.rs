//! Timestamp identifiers (TIDs), the record keys of posts.
//!
//! A TID is 64 bits — a zero bit, 53 bits of unix microseconds, 10 bits of "clock id" —
//! written as 13 characters of base32-sortable (`234567abcdefghijklmnopqrstuvwxyz`), so
//! that keys sort by time. Choosing the key of a reply before sending it
//! (`CreateRecordInput::rkey`) makes a retry safe: the PDS refuses a second record with
//! the same key instead of posting twice. Derive it from the outbound message's
//! idempotency key (for example its creation time and a hash of its id as clock id) so
//! the same reply always gets the same key.

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// Length of a TID.
pub const TID_LEN: usize = 13;

/// The TID for `micros` (unix microseconds, kept to 53 bits) and `clock_id` (kept to
/// 10 bits).
pub fn tid(micros: u64, clock_id: u16) -> String {
    let value = ((micros & ((1 << 53) - 1)) << 10) | u64::from(clock_id & 0x3ff);
    let mut out = [b'2'; TID_LEN];
    let mut rest = value;
    for slot in out.iter_mut().rev() {
        // `rest % 32` is below 32, so the index is always in range.
        *slot = ALPHABET[(rest % 32) as usize];
        rest /= 32;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// The (microseconds, clock id) of a TID; `None` when `text` is not one.
pub fn parse_tid(text: &str) -> Option<(u64, u16)> {
    if text.len() != TID_LEN {
        return None;
    }
    let mut value: u64 = 0;
    for (i, byte) in text.bytes().enumerate() {
        let digit = ALPHABET.iter().position(|&c| c == byte)? as u64;
        // The first character holds only the top 4 bits (the 65th bit must be zero).
        if i == 0 && digit >= 16 {
            return None;
        }
        value = value.checked_mul(32)?.checked_add(digit)?;
    }
    Some((value >> 10, (value & 0x3ff) as u16))
}

"""The Python peer of `rapport bench pipeline`: what a data team would script instead.

Reads the same Jetstream JSONL (`rapport bench generate`), keeps the posts, scores each
with vaderSentiment's polarity_scores, classifies its intent with rapport's own cue
lists (`rapport bench generate --cues`) and the same rule order in plain Python, and
inserts the rows into SQLite (the standard library's sqlite3: WAL,
synchronous=NORMAL, the same messages table and indexes as rapport's) in batches of
1,000 a transaction. One process, one core.

    python pipeline_peer.py EVENTS.jsonl CUES.json WORK_DIR ORG_DID

(ORG_DID: the organisation's account; its posts are stored as outbound.)

Prints one JSON object: {"messages": N, "seconds": S, "messages_per_s": R, "version": V}.
The whole run is timed, reading included, as rapport's pipeline is.
"""

import json
import os
import re
import sqlite3
import sys
import time

BATCH = 1000

SCHEMA = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    is_reply INTEGER NOT NULL DEFAULT 0,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    in_reply_to TEXT,
    compound REAL NOT NULL,
    pos REAL NOT NULL,
    neu REAL NOT NULL,
    neg REAL NOT NULL,
    intent TEXT NOT NULL,
    intent_rule TEXT NOT NULL,
    UNIQUE (platform, platform_id)
);
CREATE INDEX messages_reply_to ON messages(platform, in_reply_to) WHERE in_reply_to IS NOT NULL;
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX messages_author ON messages(author, created_at);
"""

def compile_cues(pairs):
    """One regex per intent: any of its cues, as whole words (\\b where the cue starts or
    ends with a word character), case-insensitive."""
    out = []
    for intent, cues in pairs:
        alts = []
        for cue in cues:
            cue = cue.rstrip(" ").lower()
            if not cue:
                continue
            start = r"\b" if re.match(r"\w", cue[0]) else ""
            end = r"\b" if re.match(r"\w", cue[-1]) else ""
            alts.append(start + re.escape(cue) + end)
        out.append((intent, re.compile("|".join(alts), re.IGNORECASE) if alts else None))
    return out


def classify(text, compound, rules):
    found = {}
    for intent, rx in rules:
        m = rx.search(text) if rx else None
        if m:
            found[intent] = m.group(0).lower()
    for intent in ("spam", "complaint", "lead", "idea"):
        if intent in found:
            return intent, '%s cue "%s"' % (intent, found[intent])
    if "?" in text or "question" in found:
        if compound <= -0.5:
            return "complaint", "question with compound %.3f <= -0.5" % compound
        if "question" in found:
            return "question", 'question cue "%s"' % found["question"]
        return "question", "question mark"
    if compound <= -0.5:
        return "complaint", "compound %.3f <= -0.5" % compound
    if "praise" in found and compound > -0.05:
        return "praise", 'praise cue "%s"' % found["praise"]
    if compound >= 0.5:
        return "praise", "compound %.3f >= 0.5" % compound
    return "other", "no cue and mild sentiment"


def main():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    try:
        from importlib.metadata import version

        ver = version("vaderSentiment")
    except Exception:  # an unusual install: say so, do not fail
        ver = "unknown"
    events, cues_path, work, org = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    with open(cues_path, encoding="utf-8") as f:
        rules = compile_cues(json.load(f))
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "peer.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.executescript(SCHEMA)
    analyzer = SentimentIntensityAnalyzer()
    insert = (
        "INSERT OR IGNORE INTO messages (platform, platform_id, direction, is_reply, author, text, "
        "created_at, in_reply_to, compound, pos, neu, neg, intent, intent_rule) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    rows = []
    n = 0
    started = time.perf_counter()
    with open(events, encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            commit = event.get("commit") or {}
            if (
                event.get("kind") != "commit"
                or commit.get("collection") != "app.bsky.feed.post"
                or commit.get("operation") != "create"
            ):
                continue
            record = commit.get("record") or {}
            text = record.get("text", "")
            did = event["did"]
            reply = record.get("reply") or {}
            parent = (reply.get("parent") or {}).get("uri")
            scores = analyzer.polarity_scores(text)
            intent, rule = classify(text, scores["compound"], rules)
            rows.append(
                (
                    "bluesky",
                    "at://%s/app.bsky.feed.post/%s" % (did, commit["rkey"]),
                    "outbound" if did == org else "inbound",
                    1 if parent else 0,
                    did,
                    text,
                    record.get("createdAt", ""),
                    parent,
                    scores["compound"],
                    scores["pos"],
                    scores["neu"],
                    scores["neg"],
                    intent,
                    rule,
                )
            )
            n += 1
            if len(rows) >= BATCH:
                db.execute("BEGIN")
                db.executemany(insert, rows)
                db.execute("COMMIT")
                rows.clear()
    if rows:
        db.execute("BEGIN")
        db.executemany(insert, rows)
        db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    json.dump(
        {"messages": n, "seconds": seconds, "messages_per_s": n / seconds, "version": ver},
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

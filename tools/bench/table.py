"""Prints the table of `tools/bench.sh` (Markdown) from the JSON results in a directory."""

import datetime
import json
import os
import platform
import statistics
import sys


def load(d, name):
    path = os.path.join(d, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cpu():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def n(v):
    return "{:,.0f}".format(v)


def main():
    d = sys.argv[1]
    pipe, peer = load(d, "pipeline"), load(d, "peer")
    sent, search = load(d, "sentiment"), load(d, "search")
    embed = load(d, "embed")
    print()
    print(
        "%s, %s, %d cores, %s"
        % (datetime.date.today().isoformat(), cpu(), os.cpu_count() or 0, platform.platform())
    )
    print()
    print("| benchmark | rapport | reference | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    if pipe:
        m = pipe["messages_per_s"]
        print(
            "| pipeline, %s Jetstream posts → SQLite (%d triage thread(s) + writer), messages/s | %s | raw SQLite ceiling: %s rows/s | %.2f | ≥ 0.5 |"
            % (n(pipe["messages"]), pipe["threads"], n(m), n(pipe["raw_ceiling_messages_per_s"]), pipe["ratio_to_ceiling"])
        )
        if peer:
            print(
                "| pipeline beside the Python peer (vaderSentiment + cues + sqlite3, one core), messages/s | %s | %s | %.1f× | ≥ 10× |"
                % (n(m), n(peer["messages_per_s"]), m / peer["messages_per_s"])
            )
        if pipe.get("peak_rss_bytes"):
            print("| pipeline peak RSS | %.0f MB | — | — | ≤ 200 MB |" % (pipe["peak_rss_bytes"] / 1e6))
        print(
            "| search index catching up with the pipeline's store, messages/s | %s | pipeline: %s | %.2f | ≥ 1 (keeps up) |"
            % (n(pipe["search_index_messages_per_s"]), n(m), pipe["search_index_messages_per_s"] / m)
        )
    if sent:
        ref = sent.get("reference_sentences_per_s")
        print(
            "| sentiment, sentences/s, one core each | %s | vaderSentiment: %s | %s | ≥ 20× |"
            % (n(sent["sentences_per_s"]), n(ref) if ref else "not run", "%.1f×" % sent["ratio"] if sent.get("ratio") else "—")
        )
        if sent.get("agreement") is not None:
            print("| sentiment, compounds within 0.001 of vaderSentiment | %.3f %% | — | — | ≥ 99.5 %% |" % (sent["agreement"] * 100))
    if embed:
        ref = embed.get("reference_sentences_per_s")
        print(
            "| sentence embeddings (all-MiniLM-L6-v2, %s), sentences/s | %s | sentence-transformers: %s | %s | ≥ 400/s on 2 cores |"
            % (
                embed["device"],
                n(embed["sentences_per_s"]),
                n(ref) if ref else "not run",
                "%.2f×" % embed["ratio"] if embed.get("ratio") else "—",
            )
        )
        if embed.get("min_cosine_to_reference") is not None:
            print(
                "| embeddings, lowest cosine to sentence-transformers' vector of the same sentence | %.5f | — | — | ≥ 0.999 |"
                % embed["min_cosine_to_reference"]
            )
    if search:
        speedups = [q["speedup_p50"] for q in search["queries"]]
        print(
            "| search, %s messages: index build, messages/s | %s | SQLite FTS5: %s | %.2f | — |"
            % (
                n(search["messages"]),
                n(search["rapport_index_messages_per_s"]),
                n(search["fts5_index_messages_per_s"]),
                search["rapport_index_messages_per_s"] / search["fts5_index_messages_per_s"],
            )
        )
        print(
            "| search, %d queries: median of FTS5 p50 ÷ rapport p50 | — | — | %.1f× (%.1f× to %.1f×) | ≥ 1 |"
            % (len(speedups), statistics.median(speedups), min(speedups), max(speedups))
        )
    if pipe:
        print()
        print("Pipeline by stage (busy time summed over threads; the pipeline's messages/s is set by the slowest):")
        print()
        print("| stage | µs/message | messages/s alone on one core |")
        print("| --- | --- | --- |")
        for s in pipe["stages"]:
            print("| %s | %.2f | %s |" % (s["stage"], s["us_per_message"], n(s["alone_messages_per_s"])))
        if pipe.get("statements"):
            print()
            print("The store stage by statement (%s messages a transaction), most time first:" % n(pipe.get("batch", 0)))
            print()
            print("| statement | runs | µs each | µs/message |")
            print("| --- | --- | --- | --- |")
            for s in pipe["statements"][:12]:
                print("| `%s` | %s | %s | %.2f |" % (s["sql"], n(s["runs"]), ("{:,.2f}".format(s["us_each"])), s["us_per_message"]))


if __name__ == "__main__":
    main()

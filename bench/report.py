#!/usr/bin/python3
"""report.py - turns bench.py's JSON results into bench/results/<date>.md.

usage: report.py RESULTS_DIR OUT.md [--elapsed SECONDS] [--command TEXT]

Reads RESULTS_DIR/env.json, kb.json and one JSON per corpus (generated
sizes in order, then plain-text corpora), writes the Markdown to OUT.md and
prints it.  Nothing here is measured: every figure comes from the JSON.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

SYSTEMS = [("kbsearch", "**kbsearch**"), ("raw-every", "raw FTS5 every-word"),
           ("raw-any", "raw FTS5 any-word"), ("xapian-and", "Xapian AND"),
           ("xapian-or", "Xapian OR"),
           ("xapian-spell", "Xapian OR, spelling corrected")]


def sig(x, digits=3):
    """x with about `digits` significant digits, no exponent."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    mag = int(math.floor(math.log10(abs(x))))
    dec = max(0, digits - 1 - mag)
    return "%.*f" % (dec, x)


def ratio(a, b):
    if a is None or not b:
        return "–"
    return sig(a / b, 2) + "×"


def mb(nbytes):
    return sig(nbytes / 1e6) + " MB"


def rss(kb):
    return sig(kb / 1024) + " MiB"


def secs(s):
    return sig(s) + " s"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def load(results):
    env = {"date": time.strftime("%Y-%m-%d")}
    if os.path.exists(os.path.join(results, "env.json")):
        env = json.load(open(os.path.join(results, "env.json")))
    kb = None
    if os.path.exists(os.path.join(results, "kb.json")):
        kb = json.load(open(os.path.join(results, "kb.json")))
    corpora = []
    for p in glob.glob(os.path.join(results, "*.json")):
        if os.path.basename(p) in ("env.json", "kb.json"):
            continue
        corpora.append(json.load(open(p)))
    gen = sorted((c for c in corpora if c.get("kind") == "generated"),
                 key=lambda c: c["articles"])
    text = sorted((c for c in corpora if c.get("kind") != "generated"),
                  key=lambda c: c["label"])
    return env, kb, gen, text


def build_section(c):
    b = c["build"]
    art, mbytes = c["articles"], c["bytes"] / 1e6
    rows = []
    names = [("kbindex", "kbindex"),
             ("raw", "raw FTS5 bulk load"), ("xapian", "Xapian")]
    for key, name in names:
        x = b[key]
        rows.append([name, secs(x["seconds"]), sig(art / x["seconds"]),
                     sig(mbytes / x["seconds"]), rss(x["rss_kb"]),
                     mb(x["index_bytes"])])
    raw = b["raw"]
    rows.append(["raw FTS5 optimize, after the load",
                 "+" + secs(raw["optimize_seconds"]), "", "",
                 rss(raw["optimize_rss_kb"]), mb(raw["optimized_bytes"])])
    k = b["kbindex"]
    for key, name in (("raw", "kbindex ÷ raw FTS5"),
                      ("xapian", "kbindex ÷ Xapian")):
        x = b[key]
        rows.append(["*%s*" % name, ratio(k["seconds"], x["seconds"]),
                     ratio(x["seconds"], k["seconds"]),
                     ratio(x["seconds"], k["seconds"]),
                     ratio(k["rss_kb"], x["rss_kb"]),
                     ratio(k["index_bytes"], x["index_bytes"])])
    rows.append(["*kbindex ÷ raw FTS5 load + optimize*",
                 ratio(k["seconds"],
                       raw["seconds"] + raw["optimize_seconds"]),
                 "", "", "", ratio(k["index_bytes"], raw["optimized_bytes"])])
    out = table(["", "wall time", "articles/s", "MB/s", "peak RSS",
                 "index size"], rows)
    if "runs" in k and "runs" in raw:
        out += ("\nkbindex and the raw FTS5 load are each the median of %d "
                "runs taken in turns (kbindex %s s; raw FTS5 %s s); peak "
                "RSS is the largest of the runs.\n"
                % (len(k["runs"]), ", ".join(sig(w) for w in k["runs"]),
                   ", ".join(sig(w) for w in raw["runs"])))
    if "steal_pct" in k and "steal_pct" in raw:
        out += ("Steal during the runs (CPU time the host gave to other "
                "machines): kbindex %s; raw FTS5 %s.\n"
                % (pcts(k["steal_pct"]), pcts(raw["steal_pct"])))
    return out


def pcts(v):
    """Steal percentages, as printed beside the runs they were taken in."""
    return ", ".join("%.1f%%" % x for x in v)


def classes_of(c):
    lat = c["latency"]["kbsearch"]
    return [k for k in lat if k != "all"] + ["all"]


def latency_section(c):
    lat = c["latency"]
    rows = []
    for cls in classes_of(c):
        kb = lat["kbsearch"].get(cls)
        for i, (key, name) in enumerate(SYSTEMS):
            s = lat.get(key, {}).get(cls)
            if s is None:
                continue
            r50 = r95 = ""
            if key != "kbsearch" and kb:
                r50, r95 = ratio(kb["p50"], s["p50"]), ratio(kb["p95"], s["p95"])
                if s["empty"] == s["queries"]:
                    r50, r95 = r50 + "†", r95 + "†"
            rows.append([("**%s**" % cls) if i == 0 else "", name,
                         sig(s["p50"]), sig(s["p95"]), sig(s["p99"]),
                         sig(s["max"]), "%d/%d" % (s["empty"], s["queries"]),
                         r50, r95])
    return (table(["class", "engine", "p50", "p95", "p99", "max",
                   "no result", "kbsearch p50 ÷", "kbsearch p95 ÷"], rows)
            + "\n\n† that engine found nothing for any query of the class: "
            "the ratio compares kbsearch's answer with the cost of finding "
            "nothing.")


def oneshot_section(c):
    o = c["oneshot"]
    rows = [["`kbsearch --db DB QUERY` (process)", sig(o["kbsearch"]["median"]),
             sig(o["kbsearch"]["min"]), sig(o["kbsearch"]["max"])],
            ["`quest -d DB -m 10 QUERY` (process)", sig(o["quest"]["median"]),
             sig(o["quest"]["min"]), sig(o["quest"]["max"])],
            ["*kbsearch ÷ quest*", ratio(o["kbsearch"]["median"],
                                         o["quest"]["median"]), "", ""],
            ["kb_db_open + kb_search + kb_db_close (in-process)",
             sig(o["kbsearch-inproc"]["median"]),
             sig(o["kbsearch-inproc"]["min"]),
             sig(o["kbsearch-inproc"]["max"])]]
    return ("Query `%s`, median of %d runs after one warm-up, kbsearch and"
            " quest in turns (ms):\n\n"
            % (o["query"], o["runs"])
            + table(["", "median", "min", "max"], rows))


def wrk_section(w):
    rows = []
    for key, name in (("nginx", "nginx, static file"),
                      ("kbserver", "kbserver `/api/search`"),
                      ("kbserver-nocache",
                       "kbserver `/api/search`, `--cache-mb 0`")):
        if key not in w:
            continue
        x = w[key]
        rows.append([name, sig(x["requests_per_s"]), sig(x["p50_ms"]),
                     sig(x["p99_ms"]), x["bytes"], x["requests"],
                     x["errors"] + x["non2xx"]])
    k, n = w["kbserver"], w["nginx"]
    if "kbserver-nocache" in w:
        u = w["kbserver-nocache"]
        rows.append(["*kbserver, no cache ÷ nginx*",
                     sig(100 * u["requests_per_s"] / n["requests_per_s"], 2)
                     + "%", ratio(u["p50_ms"], n["p50_ms"]),
                     ratio(u["p99_ms"], n["p99_ms"]), "", "", ""])
    rows.append(["*kbserver ÷ nginx*",
                 sig(100 * k["requests_per_s"] / n["requests_per_s"], 2) + "%",
                 ratio(k["p50_ms"], n["p50_ms"]),
                 ratio(k["p99_ms"], n["p99_ms"]), "", "", ""])
    note = ""
    if k["errors"] + k["non2xx"] + n["errors"] + n["non2xx"]:
        note = ("\n\nErrors are wrk's socket errors (mostly requests still "
                "unanswered after its 2 s timeout) and non-2xx answers; its "
                "latency percentiles leave timed-out requests out, so they "
                "flatter the server.")
    if w.get("turns", 1) > 1:
        note += ("\n\nThe three took turns %d times; each figure is the "
                 "median of its %d runs (p99 ms of the runs: nginx %s; "
                 "kbserver %s; kbserver, no cache %s)."
                 % (w["turns"], w["turns"],
                    ", ".join(sig(x["p99_ms"]) for x in n["runs"]),
                    ", ".join(sig(x["p99_ms"]) for x in k["runs"]),
                    ", ".join(sig(x["p99_ms"])
                              for x in w["kbserver-nocache"]["runs"])))
        if all("steal_pct" in x for key in ("nginx", "kbserver",
                                             "kbserver-nocache")
               for x in w[key]["runs"]):
            note += (" Steal during those runs: nginx %s; kbserver %s; "
                     "kbserver, no cache %s."
                     % tuple(pcts([x["steal_pct"] for x in w[key]["runs"]])
                             for key in ("nginx", "kbserver",
                                         "kbserver-nocache")))
    elif "steal_pct" in n and "steal_pct" in k:
        note += ("\n\nSteal during the runs: nginx %.1f%%, kbserver %.1f%%."
                 % (n["steal_pct"], k["steal_pct"]))
    return ("`wrk %s`, query `%s`, both on 127.0.0.1 in the same run:\n\n"
            % (w["args"], w["query"])
            + table(["", "requests/s", "p50 ms", "p99 ms", "response bytes",
                     "requests", "errors"], rows) + note)


def corpus_section(c, title):
    out = ["## %s" % title, "",
           "%d articles, %s; %d queries, each run once to warm up and then "
           "%d times." % (c["articles"], mb(c["bytes"]), c["queries"],
                          c["reps"]), "",
           "### Build", "", build_section(c), "",
           "### Query latency, in-process (ms)", "", latency_section(c), ""]
    if "latency_steal_pct" in c:
        out += ["Steal while kbsearch and Xapian took their turns: %.1f%%."
                % c["latency_steal_pct"], ""]
    out += ["### One-shot", "", oneshot_section(c), ""]
    if "wrk" in c:
        out += ["### kbserver under wrk", "", wrk_section(c["wrk"]), ""]
    return out


def growth_metrics(c):
    b, lat, o = c["build"], c["latency"], c["oneshot"]
    m = [("kbindex build time (s)", b["kbindex"]["seconds"]),
         ("kbindex peak RSS (MiB)", b["kbindex"]["rss_kb"] / 1024),
         ("kbindex index size (MB)", b["kbindex"]["index_bytes"] / 1e6),
         ("raw FTS5 load time (s)", b["raw"]["seconds"]),
         ("raw FTS5 peak RSS (MiB)", b["raw"]["rss_kb"] / 1024),
         ("raw FTS5 index size, optimized (MB)",
          b["raw"]["optimized_bytes"] / 1e6),
         ("Xapian build time (s)", b["xapian"]["seconds"]),
         ("Xapian peak RSS (MiB)", b["xapian"]["rss_kb"] / 1024),
         ("Xapian index size (MB)", b["xapian"]["index_bytes"] / 1e6)]
    for key, name in SYSTEMS:
        s = lat.get(key, {}).get("all")
        if s:
            m.append(("%s p50, all queries (ms)" % name.strip("*"), s["p50"]))
            m.append(("%s p95, all queries (ms)" % name.strip("*"), s["p95"]))
    m.append(("kbsearch one-shot process (ms)", o["kbsearch"]["median"]))
    m.append(("quest one-shot process (ms)", o["quest"]["median"]))
    if "wrk" in c:
        m.append(("kbserver requests/s", c["wrk"]["kbserver"]["requests_per_s"]))
    return m


def growth_section(gen):
    sizes = [c["articles"] for c in gen]
    metrics = [growth_metrics(c) for c in gen]
    head = ["metric"] + ["%s articles" % f"{s:,}" for s in sizes]
    for a, b in zip(sizes, sizes[1:]):
        head.append("× %s→%s (exponent)" % (short(a), short(b)))
    rows = []
    exps = {}
    for i, (name, _) in enumerate(metrics[0]):
        vals = [m[i][1] for m in metrics]
        row = [name] + [sig(v) for v in vals]
        for j in range(len(vals) - 1):
            if vals[j] > 0 and vals[j + 1] > 0:
                e = (math.log(vals[j + 1] / vals[j])
                     / math.log(sizes[j + 1] / sizes[j]))
                exps.setdefault(name, []).append(e)
                row.append("%s (%.2f)" % (ratio(vals[j + 1], vals[j]), e))
            else:
                row.append("–")
        rows.append(row)
    out = ["## How cost grows with the corpus", "",
           "Each step multiplies the corpus by the size ratio; the exponent "
           "is log(cost ratio) / log(size ratio): 1 means cost proportional "
           "to the corpus, 0 means flat, 0.5 like its square root.", "",
           table(head, rows), ""]
    words = []
    for name in ("kbindex build time (s)", "kbindex peak RSS (MiB)",
                 "kbindex index size (MB)", "kbsearch p50, all queries (ms)",
                 "kbsearch p95, all queries (ms)",
                 "raw FTS5 any-word p50, all queries (ms)",
                 "Xapian OR p50, all queries (ms)",
                 "kbsearch one-shot process (ms)"):
        if name in exps:
            words.append("- %s: exponent %s" % (
                name, " then ".join("%.2f" % e for e in exps[name])
                + " (%s)" % describe(exps[name][-1])))
    return out + words + [""]


def describe(e):
    if e < 0.15:
        return "about flat"
    if e < 0.75:
        return "sublinear"
    if e < 1.25:
        return "about linear"
    return "superlinear"


def short(n):
    return "%dk" % (n // 1000) if n >= 1000 and n % 1000 == 0 else str(n)


def targets_section(big, kb):
    """The done-when list of issue 5, checked on the largest corpus."""
    lat, b, o = big["latency"], big["build"], big["oneshot"]
    out = ["## Issue 5 targets on the %s-article corpus" % f"{big['articles']:,}",
           ""]

    def line(ok, text):
        out.append("- %s — %s" % ("met" if ok else "**not met**", text))

    for mode, name in (("xapian-or", "Xapian OR"), ("xapian-and", "Xapian AND")):
        bad, worst = [], None
        for cls in classes_of(big):
            if cls == "all":
                continue
            k, x = lat["kbsearch"][cls], lat[mode][cls]
            for p in ("p50", "p95"):
                if k[p] > x[p]:
                    bad.append("%s %s" % (cls, p))
                    # Classes where Xapian found nothing say little.
                    r = k[p] / x[p] / (1e6 if x["empty"] == x["queries"] else 1)
                    if worst is None or r > worst[0]:
                        worst = (r, cls, p, k[p], x[p])
        line(not bad, "kbsearch p50 and p95 at or below %s in every class%s"
             % (name, "" if not bad else
                ": above in %d of %d (worst: %s %s, %s vs %s ms)"
                % (len(bad), 2 * (len(classes_of(big)) - 1), worst[1],
                   worst[2], sig(worst[3]), sig(worst[4]))))
    sp = lat.get("xapian-spell", {}).get("typo")
    if sp:
        k = lat["kbsearch"]["typo"]
        out.append("- (for comparison, not a target) typo class against "
                   "Xapian OR after Xapian's own spelling correction: "
                   "kbsearch p50 %s / p95 %s ms vs %s / %s ms, %d/%d vs "
                   "%d/%d queries without a result"
                   % (sig(k["p50"]), sig(k["p95"]), sig(sp["p50"]),
                      sig(sp["p95"]), k["empty"], k["queries"], sp["empty"],
                      sp["queries"]))
    line(o["kbsearch"]["median"] <= o["quest"]["median"],
         "one-shot kbsearch %s ms vs quest %s ms"
         % (sig(o["kbsearch"]["median"]), sig(o["quest"]["median"])))
    k, r = b["kbindex"], b["raw"]
    line(k["seconds"] <= 1.5 * r["seconds"],
         "kbindex build %s vs raw FTS5 load %s (%s, target ≤ 1.5×)"
         % (secs(k["seconds"]), secs(r["seconds"]),
            ratio(k["seconds"], r["seconds"])))
    line(k["rss_kb"] <= 64 * 1024,
         "kbindex peak RSS %s (target ≤ 64 MiB)" % rss(k["rss_kb"]))
    line(k["index_bytes"] <= 1.3 * r["index_bytes"],
         "kbindex index %s vs raw FTS5 %s (%s, target ≤ 1.3×)"
         % (mb(k["index_bytes"]), mb(r["index_bytes"]),
            ratio(k["index_bytes"], r["index_bytes"])))
    if kb and "wrk" in kb:
        w = kb["wrk"]
        share = w["kbserver"]["requests_per_s"] / w["nginx"]["requests_per_s"]
        line(share >= 0.4, "kbserver on kb/ serves %s%% of nginx's static "
             "requests/s (target ≥ 40%%)" % sig(100 * share, 2))
        line(w["kbserver"]["p99_ms"] <= 5, "kbserver on kb/ p99 %s ms "
             "(target ≤ 5 ms)" % sig(w["kbserver"]["p99_ms"]))
        if "kbserver-nocache" in w:
            u = w["kbserver-nocache"]
            out.append("- with the answer cache off (`--cache-mb 0`): %s%% "
                       "of nginx, p99 %s ms"
                       % (sig(100 * u["requests_per_s"] /
                              w["nginx"]["requests_per_s"], 2),
                          sig(u["p99_ms"])))
    return out + [""]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("out")
    p.add_argument("--elapsed", type=float)
    p.add_argument("--command")
    a = p.parse_args()
    env, kb, gen, text = load(a.results)
    out = ["# kbsearch benchmark, %s" % env["date"], ""]
    if "nproc" in env:
        out.append("Machine: %d × %s, %s RAM, Linux %s. SQLite %s, Xapian %s, "
                   "nginx %s, wrk %s. %s at `%s`."
                   % (env["nproc"], env["cpu"], env["memory"], env["kernel"],
                      env["sqlite"], env["xapian"], env["nginx"], env["wrk"],
                      env["kbsearch"], env["git"]))
    if env.get("loadavg") is not None:
        out.append("Load average (1 min) when the run started: %s%s."
                   % (env["loadavg"], " — other work was running, so the "
                      "figures are noisier than usual"
                      if float(env["loadavg"]) > 0.5 else ""))
    if a.elapsed is not None:
        out.append("`%s` took %s min." % (a.command or "make bench",
                                          sig(a.elapsed / 60, 2)))
    out += ["", "How it is measured:", "",
            "- Build: process wall time and peak RSS (GNU time) of "
            "`kbindex --full --quiet`, of `bench/rawfts load` (one FTS5 "
            "table `fts5(title, body, tokenize='porter unicode61')`, one row "
            "per article, one transaction; `optimize` timed apart) and of "
            "`bench/xapian_bench.py index` (TermGenerator, English stemmer, "
            "title at wdf 2). Index size is the bytes of the index file(s). "
            "MB = 10⁶ bytes. The articles are read once before the first "
            "build, so every builder finds them in the page cache.",
            "- Latency: every query once to warm up, then every query again "
            "in each timed round; each timed run is one sample, percentiles "
            "are nearest-rank over the samples of a class. kbsearch and "
            "Xapian take their rounds in turns (a kbbench run of one round, "
            "then an xapian_bench.py run of one round, each after its own "
            "warm-up, and again), their samples pooled, so a slow or fast "
            "spell of the machine lands on both; raw FTS5 runs its rounds "
            "after them. kbsearch is "
            "`kb_search()` with limit 10 (libkb has no result cache). "
            "Raw FTS5: each word quoted, joined by space (every-word) or OR "
            "(any-word), `ORDER BY bm25(docs) LIMIT 10`, on the optimized "
            "index, default SQLite settings. Xapian: QueryParser with "
            "OP_AND / OP_OR, BM25, top 10, through the Python bindings. "
            "\"no result\": queries that found nothing. With 16 or 17 "
            "queries a class and 5 rounds, p99 is the class's slowest run.",
            "- One-shot: a fixed query (in a generated corpus its first "
            "`led` query), "
            "process start to exit through `bench/proctime`, output to "
            "/dev/null; beside it, kb_db_open + kb_search + kb_db_close "
            "timed inside one process.",
            "- Before each timed phase (each build, each engine's latency "
            "run, the one-shot runs) `sync` writes out what the phase before "
            "left in the page cache, so no phase pays for another's "
            "writeback.",
            "- Steal: the share of the CPU time during a measurement that "
            "the hypervisor gave to other machines on the host (from "
            "/proc/stat), printed beside the builds, the latency turns and "
            "each wrk run. While it is above a few percent this machine's "
            "cores stall for milliseconds at a time, which lands in p99s "
            "and build times whatever the engine.",
            "- Ratios are kbsearch's figure divided by the other engine's: "
            "below 1× kbsearch is faster or smaller.", ""]
    if len(gen) > 0:
        out += targets_section(gen[-1], kb)
    if kb and "wrk" in kb:
        out += ["## kbserver on the kb/ index", "",
                "%d articles (%s), index %s." % (kb["articles"], mb(kb["bytes"]),
                                                mb(kb["index_bytes"])), "",
                wrk_section(kb["wrk"]), ""]
    for c in gen:
        out += corpus_section(c, "%s generated articles" % f"{c['articles']:,}")
    for c in text:
        out += corpus_section(c, "Plain text: %s" % c.get("title", c["label"]))
    if len(gen) >= 2:
        out += growth_section(gen)
    md = "\n".join(out).rstrip() + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""xapian_bench.py - the Xapian baseline: index the same articles, time BM25 queries.

usage: xapian_bench.py index DBDIR PATH...
       xapian_bench.py spelling DBDIR SPELLDIR
       xapian_bench.py latency DBDIR QUERIES.tsv [REPS] [SPELLDIR]
       xapian_bench.py version

index: every .md, .markdown and .txt file under PATH becomes one document
(TermGenerator, English stemmer, title with wdf increment 2, then the
body), committed once at the end.  Title and body are read exactly as
rawfts.c reads them.
spelling: Xapian's spelling data for DBDIR's words (every unstemmed term
with its frequency) in a database of its own, so the index built and timed
above stays the plain one.
latency: each query as every word (OP_AND) and any word (OP_OR) through
QueryParser (English stemmer, STEM_SOME, no operators), default weighting
(BM25), top 10; warm-up, then REPS (default 5) timed rounds; prints the
lat lines kbbench prints (nearest-rank percentiles, ms).  With SPELLDIR,
also any word after Xapian's own spelling correction
(FLAG_SPELLING_CORRECTION; the corrected query when there is one), which
is what answering a typo'd query costs Xapian: "xapian-spell".
"""
import math
import os
import re
import sys
import time

import xapian

WORD = re.compile(r"[^\W_]+")


def log(msg):
    print("xapian_bench: " + msg, file=sys.stderr, flush=True)


def collect(paths):
    out = []
    for top in paths:
        for root, _dirs, names in os.walk(top):
            for n in names:
                if os.path.splitext(n)[1] in (".md", ".markdown", ".txt"):
                    out.append(os.path.join(root, n))
    out.sort(key=os.fsencode)
    return out


def trim(s):
    return s.lstrip(" \t#").rstrip(" \t\r")


def split_article(text):
    """(title, body) as rawfts.c's split_article reads them."""
    if text.startswith("---\n"):
        title = ""
        lines = text[4:].split("\n")
        pos = 4
        for line in lines:
            if line == "---":
                return title, text[pos + 4:]
            if line.startswith("title:") and len(line) > 6:
                title = trim(line[6:])
                if len(title) >= 2 and title[0] in "\"'" and title[-1] == title[0]:
                    title = title[1:-1]
            pos += len(line) + 1
        return title, text
    for line in text.split("\n"):
        t = trim(line)
        if t:
            return t, text
    return "", text


def index(dbdir, paths):
    t0 = time.monotonic()
    files = collect(paths)
    log("indexing %d files into %s" % (len(files), dbdir))
    db = xapian.WritableDatabase(dbdir, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    nbytes = 0
    for i, path in enumerate(files):
        with open(path, "rb") as f:
            raw = f.read()
        nbytes += len(raw)
        title, body = split_article(raw.decode("utf-8", "replace"))
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(title, 2)
        tg.increase_termpos()
        tg.index_text(body)
        doc.set_data(title)
        db.add_document(doc)
        if (i + 1) % 10000 == 0:
            log("%d/%d" % (i + 1, len(files)))
    db.commit()
    db.close()
    print("load\tarticles\t%d\nload\tbytes\t%d\nload\tseconds\t%.4f"
          % (len(files), nbytes, time.monotonic() - t0))


def load_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            cls, text = line.split("\t", 1)
            out.append((cls, text))
    return out


def words(text):
    """Letters and digits, lowercased, each once: what rawfts quotes."""
    seen = []
    for w in WORD.findall(text.lower()):
        if w not in seen:
            seen.append(w)
    return seen


def percentile(sorted_v, p):
    rank = min(max(math.ceil(p / 100.0 * len(sorted_v)), 1), len(sorted_v))
    return sorted_v[rank - 1]


def print_stats(system, queries, samples, empty):
    classes = []
    for cls, _ in queries:
        if cls not in classes:
            classes.append(cls)
    for cls in classes + [None]:
        idx = [i for i, (c, _) in enumerate(queries) if cls is None or c == cls]
        v = sorted(x for i in idx for x in samples[i])
        print("lat\t%s\t%s\t%d\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f" % (
            system, cls or "all", len(idx), len(v), sum(empty[i] for i in idx),
            percentile(v, 50), percentile(v, 95), percentile(v, 99), v[-1],
            sum(v) / len(v)))
    # The samples too, as stats.c prints them, to be pooled with others.
    for i in range(len(queries)):
        print("smp\t%s\t%d\t%d\t%s" % (
            system, i, 1 if empty[i] else 0,
            ",".join("%.4f" % x for x in samples[i])))
    sys.stdout.flush()


def spelling(dbdir, spelldir):
    t0 = time.monotonic()
    db = xapian.Database(dbdir)
    sp = xapian.WritableDatabase(spelldir, xapian.DB_CREATE_OR_OVERWRITE)
    n = 0
    for t in db.allterms():
        w = t.term.decode("utf-8", "replace")
        # Unstemmed words only: stemmed terms carry the Z prefix.
        if w and w[0].islower() and not w[0].isdigit():
            sp.add_spelling(w, t.termfreq)
            n += 1
    sp.commit()
    sp.close()
    print("spell\twords\t%d\nspell\tseconds\t%.4f"
          % (n, time.monotonic() - t0))


def parser(db, op):
    qp = xapian.QueryParser()
    qp.set_stemmer(xapian.Stem("english"))
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(op)
    qp.set_database(db)
    return qp


def latency(dbdir, qpath, reps, spelldir=None):
    queries = load_queries(qpath)
    db = xapian.Database(dbdir)
    systems = [("xapian-and", xapian.Query.OP_AND, None),
               ("xapian-or", xapian.Query.OP_OR, None)]
    if spelldir is not None:
        # Words the index holds are left alone; the others are looked
        # up in the spelling data.
        both = xapian.Database(dbdir)
        both.add_database(xapian.Database(spelldir))
        systems.append(("xapian-spell", xapian.Query.OP_OR,
                        parser(both, xapian.Query.OP_OR)))
    for name, op, speller in systems:
        qp = parser(db, op)

        def run(text):
            t0 = time.perf_counter()
            ws = words(text)
            n = 0
            if ws:
                text = " ".join(ws)
                if speller is not None:
                    speller.parse_query(
                        text, xapian.QueryParser.FLAG_SPELLING_CORRECTION)
                    fixed = speller.get_corrected_query_string()
                    if fixed:
                        text = fixed.decode("utf-8", "replace") \
                            if isinstance(fixed, bytes) else fixed
                query = qp.parse_query(text, 0)
                enquire = xapian.Enquire(db)
                enquire.set_query(query)
                for m in enquire.get_mset(0, 10):
                    m.document.get_data()
                    n += 1
            return (time.perf_counter() - t0) * 1e3, n

        log("%s: %d queries, warm-up + %d rounds" % (name, len(queries), reps))
        empty = [run(t)[1] == 0 for _, t in queries]
        samples = [[] for _ in queries]
        for r in range(reps):
            log("%s round %d/%d" % (name, r + 1, reps))
            for i, (_, t) in enumerate(queries):
                samples[i].append(run(t)[0])
        print_stats(name, queries, samples, empty)


def main():
    a = sys.argv[1:]
    if a == ["version"]:
        print("xapian\t%s" % xapian.version_string())
    elif len(a) >= 3 and a[0] == "index":
        index(a[1], a[2:])
    elif len(a) == 3 and a[0] == "spelling":
        spelling(a[1], a[2])
    elif len(a) in (3, 4, 5) and a[0] == "latency":
        latency(a[1], a[2], int(a[3]) if len(a) >= 4 else 5,
                a[4] if len(a) == 5 else None)
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""bench.py - runs one corpus through kbindex/kbsearch, raw FTS5 and Xapian.

usage: bench.py env BUILD OUT.json
       bench.py generated N BUILD WORK OUT.json [--reps R] [--no-wrk]
       bench.py text LABEL DIR QUERIES TAXONOMY ONESHOT BUILD WORK OUT.json
                [--reps R] [--title TEXT]
       bench.py kb BUILD WORK OUT.json

generated: makes (or reuses) the gen.py corpus in bench/corpus/N, then
measures it; text: measures any folder of .txt/.md files with a query
file of your own; kb: indexes kb/ and measures kbserver against nginx.
Every figure is measured here, in this run; progress goes to stderr,
the figures to OUT.json, which report.py turns into Markdown.
"""
import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
EXTS = (".md", ".markdown", ".txt")
ONESHOT_RUNS = 50
BUILD_RUNS = 5


def log(msg):
    print("bench: %s %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr,
          flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(1)


def dirty_kb():
    """Dirty and under-writeback page cache, KiB (0 when unknown)."""
    total = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith(("Dirty:", "Writeback:")):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


def settle():
    """Before a timed phase: what the last one wrote goes to disk first.
    An index just built leaves hundreds of MB of dirty pages, and their
    writeback competed with whatever was timed next (kbsearch's latency,
    right after Xapian's build, measured ~50% slower than a minute
    later)."""
    os.sync()
    t0 = time.monotonic()
    while dirty_kb() > 16384 and time.monotonic() - t0 < 60:
        time.sleep(0.5)
    time.sleep(2)


def run(cmd, **kw):
    """Run cmd, stderr passed through; returns stdout, dies on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        die("%s exited with status %d" % (" ".join(cmd[:4]), p.returncode))
    return p.stdout


def timed(cmd):
    """Run cmd under GNU time: (wall seconds, peak RSS in KiB, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.monotonic()
        out = run(["/usr/bin/time", "-v", "-o", tf.name] + cmd)
        wall = time.monotonic() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
    if not m:
        die("no peak RSS from /usr/bin/time for %s" % cmd[0])
    return wall, int(m.group(1)), out


def cpu_ticks():
    """(steal, all) ticks of every CPU since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[7] if len(v) > 7 else 0), sum(v)


def steal_since(t0):
    """Percent of the CPU time since cpu_ticks() gave t0 that the
    hypervisor gave to other guests (steal): on a shared host it is when
    this machine's cores stall, and what turns a quiet p99 into a noisy
    one."""
    s, a = cpu_ticks()
    return 100.0 * (s - t0[0]) / (a - t0[1]) if a > t0[1] else 0.0


def median_run(runs):
    """The median wall time of (wall, rss) runs."""
    walls = sorted(w for w, _ in runs)
    return walls[len(walls) // 2]


def size_of(path):
    """Bytes of a file, or of every file under a folder (apparent sizes)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            total += os.path.getsize(os.path.join(root, n))
    return total


def read_corpus(path):
    """Reads every article once (the page cache is then warm for every
    builder alike); returns (articles, bytes)."""
    n = nbytes = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            if os.path.splitext(name)[1] in EXTS:
                with open(os.path.join(root, name), "rb") as f:
                    nbytes += len(f.read())
                n += 1
    return n, nbytes


def kv_lines(out, kind):
    """{key: float} from lines 'kind<TAB>key<TAB>value'."""
    d = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 3 and f[0] == kind:
            d[f[1]] = float(f[2])
    return d


def lat_lines(out):
    """{system: {class: stats}} from kbbench/rawfts/xapian_bench lat lines."""
    d = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) != 11 or f[0] != "lat":
            continue
        d.setdefault(f[1], {})[f[2]] = {
            "queries": int(f[3]), "samples": int(f[4]), "empty": int(f[5]),
            "p50": float(f[6]), "p95": float(f[7]), "p99": float(f[8]),
            "max": float(f[9]), "mean": float(f[10])}
    return d


def percentile(sorted_v, p):
    """Nearest rank, as bench/stats.c computes it."""
    rank = min(max(math.ceil(p / 100.0 * len(sorted_v)), 1), len(sorted_v))
    return sorted_v[rank - 1]


def pooled(qpath, outs):
    """{system: {class: stats}} from the smp lines of several runs: each
    query's samples from all of them, then per class as lat_lines reads
    a single run's (empty: the query found nothing in its first run)."""
    classes = []
    with open(qpath, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line and not line.startswith("#"):
                classes.append(line.split("\t", 1)[0])
    samples, empty = {}, {}
    for out in outs:
        for line in out.splitlines():
            f = line.split("\t")
            if len(f) != 5 or f[0] != "smp":
                continue
            system, i = f[1], int(f[2])
            samples.setdefault(system, [[] for _ in classes])[i].extend(
                float(x) for x in f[4].split(","))
            empty.setdefault(system, {}).setdefault(i, f[3] == "1")
    d = {}
    for system, per in samples.items():
        for cls in list(dict.fromkeys(classes)) + [None]:
            idx = [i for i, c in enumerate(classes) if cls in (None, c)]
            v = sorted(x for i in idx for x in per[i])
            if not v:
                continue
            d.setdefault(system, {})[cls or "all"] = {
                "queries": len(idx), "samples": len(v),
                "empty": sum(empty[system].get(i, False) for i in idx),
                "p50": percentile(v, 50), "p95": percentile(v, 95),
                "p99": percentile(v, 99), "max": v[-1],
                "mean": sum(v) / len(v)}
    return d


def proc_line(out):
    f = out.strip().split("\t")
    return {"median": float(f[2]), "min": float(f[3]), "max": float(f[4])}


def remove(*paths):
    for p in paths:
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)


# -- the environment --------------------------------------------------------

def cmd_env(a):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    sqlite = run([os.path.join(a.build, "bench/rawfts"), "version"]).split()[1]
    xap = run([PY, os.path.join(HERE, "xapian_bench.py"), "version"]).split()[1]
    ngx = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    kbv = subprocess.run([os.path.join(a.build, "kbsearch"), "--version"],
                         capture_output=True, text=True)
    git = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    env = {
        "date": time.strftime("%Y-%m-%d"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "sqlite": sqlite,
        "xapian": xap,
        "nginx": (ngx.stderr.strip().split("/")[-1] if ngx.returncode == 0
                  else "?"),
        "wrk": (wrk.stdout + wrk.stderr).split("[")[0].replace("wrk", "").strip(),
        "kbsearch": kbv.stdout.strip() or "?",
        "git": git.stdout.strip() or "?",
        "loadavg": open("/proc/loadavg").read().split()[0],
    }
    with open(a.out, "w") as f:
        json.dump(env, f, indent=1)


# -- building and querying ----------------------------------------------------

def measure(label, artdir, taxonomy, queries, oneshot, build, work, reps,
            wrk_query):
    """Everything for one corpus; returns the result dict."""
    os.makedirs(work, exist_ok=True)
    kbindex = os.path.join(build, "kbindex")
    rawfts = os.path.join(build, "bench/rawfts")
    xbench = os.path.join(HERE, "xapian_bench.py")
    kbdb = os.path.join(work, "kb.db")
    rawdb = os.path.join(work, "raw.db")
    xdb = os.path.join(work, "xapian")
    with open(queries, encoding="utf-8") as f:
        nq = sum(1 for line in f if line.strip() and not line.startswith("#"))
    log("[%s] reading the corpus once to warm the page cache" % label)
    articles, nbytes = read_corpus(artdir)
    res = {"label": label, "articles": articles, "bytes": nbytes,
           "queries": nq, "reps": reps, "build": {}, "latency": {},
           "oneshot": {"query": oneshot, "runs": ONESHOT_RUNS}}

    log("[%s] kbindex: %d articles, %.1f MB" % (label, articles, nbytes / 1e6))
    cmd = [kbindex, "--full", "--quiet", "--db", kbdb, "--taxonomy", taxonomy,
           artdir]
    # The two builds are timed BUILD_RUNS times each, taking turns, and
    # each is reported by its median run: on a shared 2-core machine one
    # run of either swings by 10-20% with what else the host is doing, and
    # at 100k articles the raw load alone has taken 6.4 to 12 s from one
    # make bench to the next: five turns each, so two slow ones cannot
    # move either median.
    kruns, rruns, ksteal, rsteal = [], [], [], []
    for i in range(BUILD_RUNS):
        remove(kbdb, kbdb + ".new", kbdb + ".lock")
        settle()
        t0 = cpu_ticks()
        wall, rss, _ = timed(cmd)
        ksteal.append(steal_since(t0))
        kruns.append((wall, rss))
        log("[%s] kbindex run %d/%d: %.2f s (steal %.1f%%)"
            % (label, i + 1, BUILD_RUNS, wall, ksteal[-1]))
        remove(rawdb)
        settle()
        t0 = cpu_ticks()
        wall, rss, out = timed([rawfts, "load", rawdb, artdir])
        rsteal.append(steal_since(t0))
        load = kv_lines(out, "load")
        if int(load["articles"]) != articles:
            die("rawfts loaded %d articles, not %d"
                % (load["articles"], articles))
        rruns.append((wall, rss))
        log("[%s] raw FTS5 bulk load run %d/%d: %.2f s (steal %.1f%%)"
            % (label, i + 1, BUILD_RUNS, wall, rsteal[-1]))
    res["build"]["kbindex"] = {"seconds": median_run(kruns),
                               "runs": [w for w, _ in kruns],
                               "steal_pct": ksteal,
                               "rss_kb": max(r for _, r in kruns),
                               "index_bytes": size_of(kbdb),
                               "command": " ".join(cmd)}
    wall = median_run(rruns)
    rss = max(r for _, r in rruns)
    raw = {"seconds": wall, "runs": [w for w, _ in rruns], "rss_kb": rss,
           "steal_pct": rsteal,
           "index_bytes": size_of(rawdb)}
    log("[%s] raw FTS5: optimize (timed separately)" % label)
    settle()
    wall, rss, _ = timed([rawfts, "optimize", rawdb])
    raw.update(optimize_seconds=wall, optimize_rss_kb=rss,
               optimized_bytes=size_of(rawdb))
    res["build"]["raw"] = raw

    log("[%s] Xapian: index" % label)
    remove(xdb)
    settle()
    wall, rss, out = timed([PY, xbench, "index", xdb, artdir])
    res["build"]["xapian"] = {"seconds": wall, "rss_kb": rss,
                              "index_bytes": size_of(xdb)}
    # Spelling data in a database of its own, after the timed build: the
    # typo class is also run through Xapian's own correction.
    xspell = os.path.join(work, "xapian-spelling")
    remove(xspell)
    wall, _, out = timed([PY, xbench, "spelling", xdb, xspell])
    m = re.search(r"spell\twords\t(\d+)", out)
    res["build"]["xapian"]["spelling"] = {
        "seconds": wall, "words": int(m.group(1)) if m else None}

    r = str(reps)
    # kbsearch and Xapian, the engines the targets compare, in turns: a
    # round of each at a time (each after its own warm-up), the samples
    # pooled, so a slow or fast spell of the machine lands on both.
    settle()
    outs = []
    t0 = cpu_ticks()
    for i in range(reps):
        log("[%s] kbsearch, then Xapian: query latency, round %d/%d"
            % (label, i + 1, reps))
        outs.append(run([os.path.join(build, "bench/kbbench"), "latency",
                         kbdb, queries, "1"]))
        outs.append(run([PY, xbench, "latency", xdb, queries, "1", xspell]))
    res["latency"].update(pooled(queries, outs))
    res["latency_steal_pct"] = steal_since(t0)
    log("[%s] raw FTS5: query latency" % label)
    settle()
    res["latency"].update(lat_lines(run([rawfts, "latency", rawdb, queries,
                                         r])))

    log("[%s] one-shot: %r, median of %d" % (label, oneshot, ONESHOT_RUNS))
    settle()
    n = str(ONESHOT_RUNS)
    one = res["oneshot"]
    out = run([os.path.join(build, "bench/kbbench"), "oneshot", kbdb, oneshot,
               n])
    f = out.strip().split("\t")
    one["kbsearch-inproc"] = {"median": float(f[2]), "min": float(f[3]),
                              "max": float(f[4])}
    proctime = os.path.join(build, "bench/proctime")
    # In turns (kbsearch, quest, kbsearch, ...), so drift lands on both.
    lines = run([proctime, "kbsearch", n, os.path.join(build, "kbsearch"),
                 "--db", kbdb, oneshot,
                 "--", "quest", "quest", "-d", xdb, "-m", "10", oneshot])
    for line in lines.splitlines():
        if line.startswith("proc\t"):
            one[line.split("\t")[1]] = proc_line(line)
    if wrk_query:
        res["wrk"] = wrk_pair(label, build, kbdb, wrk_query)
    return res


# -- kbserver and nginx under wrk ---------------------------------------------

WRK_ARGS = ["-t2", "-c32", "-d10s", "--latency"]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_wrk(out):
    d = {"requests_per_s": None, "p50_ms": None, "p99_ms": None,
         "requests": None, "errors": 0, "non2xx": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        d["requests_per_s"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m|h)\s*$" % pct, out, re.M)
        if m:
            d[key] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"(\d+) requests in", out)
    if m:
        d["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        d["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        d["non2xx"] = int(m.group(1))
    if d["requests_per_s"] is None or d["p99_ms"] is None:
        die("could not read wrk's output:\n" + out)
    return d


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, len(r.read())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    for _ in range(100):
        if proc.poll() is not None:
            die("%s exited at start (status %d)" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    die("%s is not listening on port %d" % (what, port))


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(url):
    t0 = cpu_ticks()
    d = parse_wrk(run(["wrk"] + WRK_ARGS + [url]))
    d["steal_pct"] = steal_since(t0)
    log("wrk: %.0f requests/s, p99 %.2f ms (steal %.1f%%)"
        % (d["requests_per_s"], d["p99_ms"], d["steal_pct"]))
    return d


def wrk_nginx(label):
    """nginx on loopback serving a ~1 KB static file, under wrk."""
    tmp = tempfile.mkdtemp(prefix="kbbench-nginx-")
    try:
        # Workers may run as nobody when we are root: let them read it.
        os.chmod(tmp, 0o755)
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        body = ("<!doctype html><title>static</title><p>"
                + "kbsearch bench static file. " * 40)[:1023] + "\n"
        with open(os.path.join(www, "static.html"), "w") as f:
            f.write(body)
        port = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        temps = "".join("  %s_temp_path %s/%s;\n" % (k, tmp, k) for k in
                        ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(conf, "w") as f:
            f.write("daemon off;\nworker_processes auto;\n"
                    "pid %s/nginx.pid;\nerror_log %s/error.log;\n"
                    "events { worker_connections 1024; }\n"
                    "http {\n  access_log off;\n%s"
                    "  server {\n    listen 127.0.0.1:%d;\n"
                    "    root %s;\n  }\n}\n" % (tmp, tmp, temps, port, www))
        proc = subprocess.Popen(["nginx", "-e", os.path.join(tmp, "error.log"),
                                 "-p", tmp, "-c", conf])
        try:
            wait_port(port, proc, "nginx")
            url = "http://127.0.0.1:%d/static.html" % port
            status, nbytes = fetch(url)
            if status != 200:
                die("nginx answered %d" % status)
            log("[%s] wrk: nginx static file (%d bytes)" % (label, nbytes))
            d = wrk(url)
            d["bytes"] = nbytes
            return d
        finally:
            stop(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wrk_kbserver(label, build, db, query, cache_mb=16):
    proc = subprocess.Popen([os.path.join(build, "kbserver"), "--db", db,
                             "--port", "0", "--quiet",
                             "--cache-mb", str(cache_mb)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"listening on (http://[^/]+/)", line)
        if not m:
            die("kbserver did not say where it listens: %r" % line)
        url = m.group(1) + "api/search?q=" + urllib.parse.quote(query, safe="")
        status, nbytes = fetch(url)
        if status != 200:
            die("kbserver answered %d" % status)
        log("[%s] wrk: kbserver /api/search, cache %d MB (%d bytes)"
            % (label, cache_mb, nbytes))
        d = wrk(url)
        d["bytes"] = nbytes
        return d
    finally:
        stop(proc)


def median_of(runs):
    """Each figure's median over runs (errors summed), and the runs."""
    out = dict(runs[0])
    for key in ("requests_per_s", "p50_ms", "p99_ms", "requests"):
        v = sorted(r[key] for r in runs)
        out[key] = v[len(v) // 2]
    for key in ("errors", "non2xx"):
        out[key] = sum(r[key] for r in runs)
    out.pop("steal_pct", None)
    out["runs"] = runs
    return out


def wrk_pair(label, build, db, query, turns=1):
    # The answer cache is on by default; the same query under wrk is its
    # best case, so the server is also measured with the cache off.  With
    # turns > 1 the three take turns that many times and each figure is
    # the median of its runs: ten seconds of wrk now and then catch a
    # stall of the machine in the tail of whichever ran then.
    runs = {"nginx": [], "kbserver": [], "kbserver-nocache": []}
    for i in range(turns):
        if turns > 1:
            log("[%s] wrk: turn %d/%d" % (label, i + 1, turns))
        runs["nginx"].append(wrk_nginx(label))
        runs["kbserver"].append(wrk_kbserver(label, build, db, query))
        runs["kbserver-nocache"].append(
            wrk_kbserver(label, build, db, query, 0))
    res = {"query": query, "args": " ".join(WRK_ARGS), "turns": turns}
    for key, v in runs.items():
        res[key] = v[0] if turns == 1 else median_of(v)
    return res


# -- commands -------------------------------------------------------------------

def gen_corpus(n):
    """bench/corpus/N from gen.py, regenerated only when gen.py changed."""
    gen = os.path.join(HERE, "gen.py")
    with open(gen, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    top = os.path.join(HERE, "corpus")
    dest = os.path.join(top, str(n))
    stampfile = os.path.join(dest, ".gen.sha256")
    if os.path.exists(stampfile) and open(stampfile).read().strip() == stamp:
        log("[%d] reusing corpus %s" % (n, dest))
        return dest
    tmp = dest + ".tmp"
    remove(tmp)
    log("[%d] generating corpus into %s" % (n, dest))
    t0 = time.monotonic()
    run([PY, gen, str(n), tmp])
    with open(os.path.join(tmp, ".gen.sha256"), "w") as f:
        f.write(stamp + "\n")
    remove(dest)
    os.rename(tmp, dest)
    log("[%d] generated in %.1f s" % (n, time.monotonic() - t0))
    return dest


def first_query(path, cls):
    with open(path, encoding="utf-8") as f:
        for line in f:
            c, _, text = line.rstrip("\n").partition("\t")
            if c == cls:
                return text
    die("%s has no %s query" % (path, cls))


def write(out, res):
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


def cmd_generated(a):
    dest = gen_corpus(a.n)
    queries = os.path.join(dest, "queries.tsv")
    # A mid-length query that names a model, an LED state and a symptom.
    q = first_query(queries, "led")
    res = measure(str(a.n), os.path.join(dest, "articles"),
                  os.path.join(dest, "taxonomy.json"), queries, q, a.build,
                  os.path.join(a.work, str(a.n)), a.reps,
                  None if a.no_wrk else q)
    res["kind"] = "generated"
    write(a.out, res)


def cmd_text(a):
    res = measure(a.label, a.dir, a.taxonomy, a.queries, a.oneshot, a.build,
                  os.path.join(a.work, a.label), a.reps, None)
    res["kind"] = "text"
    res["title"] = a.title or a.label
    write(a.out, res)


KB_QUERY = "soundcore 2 solid red not full"
# kbserver and nginx on kb/ (issue 5's target) take turns this many times.
KB_TURNS = 3


def cmd_kb(a):
    work = os.path.join(a.work, "kb")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "kb.db")
    remove(db, db + ".new", db + ".lock")
    log("[kb] indexing kb/")
    run([os.path.join(a.build, "kbindex"), "--full", "--quiet", "--db", db,
         os.path.join(ROOT, "kb")])
    articles, nbytes = read_corpus(os.path.join(ROOT, "kb"))
    write(a.out, {"label": "kb", "kind": "kb", "articles": articles,
                  "bytes": nbytes, "index_bytes": size_of(db),
                  "wrk": wrk_pair("kb", a.build, db, KB_QUERY, KB_TURNS)})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("env")
    s.add_argument("build")
    s.add_argument("out")
    s = sub.add_parser("generated")
    s.add_argument("n", type=int)
    for k in ("build", "work", "out"):
        s.add_argument(k)
    s.add_argument("--reps", type=int, default=5)
    s.add_argument("--no-wrk", action="store_true")
    s = sub.add_parser("text")
    for k in ("label", "dir", "queries", "taxonomy", "oneshot", "build",
              "work", "out"):
        s.add_argument(k)
    s.add_argument("--reps", type=int, default=5)
    s.add_argument("--title")
    s = sub.add_parser("kb")
    for k in ("build", "work", "out"):
        s.add_argument(k)
    a = p.parse_args()
    {"env": cmd_env, "generated": cmd_generated, "text": cmd_text,
     "kb": cmd_kb}[a.cmd](a)


if __name__ == "__main__":
    main()

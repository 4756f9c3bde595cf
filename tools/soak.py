#!/usr/bin/env python3
"""Soak test: the real gongkaid under continuous drops, edits, deletes,
renames and searches, with a SIGTERM and restart every --restart-every
seconds. Samples the daemon's memory (VmRSS) and open file descriptors once
a minute into soak.csv, and ends by checking that the archive matches the
share (every file active, with its current sha256) and that `gongkai verify`
is clean. Exit 0 only if all of that holds and memory and fds stayed bounded.

  tools/soak.sh HOURS        (builds first; this script does the work)
"""
import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gongkaid", required=True)
    ap.add_argument("--gongkai", required=True)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--restart-every", type=float, default=600, help="seconds between SIGTERM/restarts")
    ap.add_argument("--out", default=None, help="folder for soak.csv and the daemon log")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="gongkai-soak-")
    out = args.out or work
    os.makedirs(out, exist_ok=True)
    share = os.path.join(work, "share")
    os.makedirs(share)
    token = "soak-inspector-token"
    with open(os.path.join(work, "tokens"), "w") as f:
        f.write("inspector %s soak\n" % hashlib.sha256(token.encode()).hexdigest())
    conf = os.path.join(work, "gongkaid.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\ndata_dir = data\nlisten = 127.0.0.1:0\nsettle = 500ms\nanonymous_search_rate = 0\n"
                "[auth]\ntokens_file = tokens\n[share.pub]\npath = share\noffice = 浸泡測試\n")
    log_path = os.path.join(out, "daemon.log")
    rng = random.Random(1)
    words = ["公告", "預算", "道路養護", "经费", "政務公開", "實施方案", "許可", "處罰", "report", "budget"]

    daemon = {"proc": None, "port": None}

    def start():
        logf = open(log_path, "a")
        daemon["proc"] = subprocess.Popen([args.gongkaid, "--config", conf], stderr=logf, stdout=logf)
        deadline = time.time() + 120
        while time.time() < deadline:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                lines = [l for l in f if "listening on http://127.0.0.1:" in l]
            if lines:
                daemon["port"] = int(lines[-1].split("127.0.0.1:")[1].split()[0])
                try:
                    urllib.request.urlopen("http://127.0.0.1:%d/healthz" % daemon["port"], timeout=5)
                    return
                except Exception:
                    pass
            time.sleep(0.2)
        sys.exit("soak: gongkaid did not start; see " + log_path)

    def stop():
        p = daemon["proc"]
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=120)
        if rc != 0:
            sys.exit("soak: gongkaid exited %d on SIGTERM; see %s" % (rc, log_path))

    def get(path, auth=False):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (daemon["port"], path))
        if auth:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def sample(csv, t0):
        pid = daemon["proc"].pid
        rss = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds = len(os.listdir("/proc/%d/fd" % pid))
        st = get("/api/v1/status", auth=True)
        csv.write("%d,%d,%d,%d,%d,%d\n" % (time.time() - t0, rss, fds, st["documents"], st["versions"], st["queued"]))
        csv.flush()
        return rss, fds

    files = {}  # rel -> content
    n = 0
    start()
    t0 = time.time()
    end = t0 + args.hours * 3600
    last_restart = last_sample = t0
    csv = open(os.path.join(out, "soak.csv"), "w")
    csv.write("seconds,rss_kib,fds,documents,versions,queued\n")
    samples = [sample(csv, t0)]
    searches = ops = restarts = 0
    while time.time() < end:
        action = rng.random()
        if action < 0.45 or not files:  # drop a new file
            rel = "d%d/f%d.txt" % (n % 20, n)
            n += 1
            text = "%s 第%d號 %s\n" % (rng.choice(words), n, "x" * rng.randint(0, 20000))
            os.makedirs(os.path.join(share, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(share, rel), "w", encoding="utf-8") as f:
                f.write(text)
            files[rel] = text
        elif action < 0.70:  # edit
            rel = rng.choice(list(files))
            files[rel] += "修訂 %d\n" % n
            with open(os.path.join(share, rel), "w", encoding="utf-8") as f:
                f.write(files[rel])
        elif action < 0.80:  # delete
            rel = rng.choice(list(files))
            os.remove(os.path.join(share, rel))
            del files[rel]
        elif action < 0.85:  # rename
            rel = rng.choice(list(files))
            new = rel.replace(".txt", "-r%d.txt" % n)
            os.rename(os.path.join(share, rel), os.path.join(share, new))
            files[new] = files.pop(rel)
        else:  # search, anonymously
            q = urllib.parse.quote(rng.choice(words))
            get("/api/v1/search?q=" + q)
            searches += 1
        ops += 1
        time.sleep(rng.uniform(0.005, 0.05))
        now = time.time()
        if now - last_sample >= 60:
            samples.append(sample(csv, t0))
            last_sample = now
        if now - last_restart >= args.restart_every:
            stop()
            start()
            restarts += 1
            last_restart = now

    # Let it settle, then compare the archive with the share.
    deadline = time.time() + 600
    while time.time() < deadline:
        st = get("/api/v1/status", auth=True)
        if st["queued"] == 0 and st["active"] == len(files):
            break
        time.sleep(1)
    samples.append(sample(csv, t0))
    stop()
    problems = []
    for rel, text in sorted(files.items()):
        r = subprocess.run([args.gongkai, "--config", conf, "show", "pub:" + rel, "--json"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            problems.append("%s: not in the archive (%s)" % (rel, r.stderr.strip()))
            continue
        doc = json.loads(r.stdout)
        want = hashlib.sha256(text.encode()).hexdigest()
        versions = doc.get("versions", [])
        if doc.get("status") != "active" or not versions or versions[-1].get("sha256") != want:
            problems.append("%s: archive does not hold the current content" % rel)
    verify = subprocess.run([args.gongkai, "--config", conf, "verify"], capture_output=True, text=True)
    if verify.returncode != 0:
        problems.append("verify: " + verify.stdout[-2000:])

    # Bounded: the second half of the run must not keep growing past the first.
    half = samples[len(samples) // 2:]
    rss_first, rss_last = max(s[0] for s in samples[: max(1, len(samples) // 2)]), max(s[0] for s in half)
    fd_max = max(s[1] for s in samples)
    print("soak: %.2f h, %d operations, %d searches, %d restarts, %d files at the end" %
          (args.hours, ops, searches, restarts, len(files)))
    print("soak: peak RSS %d MiB (first half) / %d MiB (second half), at most %d fds; samples in %s" %
          (rss_first // 1024, rss_last // 1024, fd_max, os.path.join(out, "soak.csv")))
    if fd_max > 200:
        problems.append("file descriptors reached %d" % fd_max)
    if len(samples) >= 8 and rss_last > 2 * rss_first + 64 * 1024:
        problems.append("memory kept growing: %d -> %d KiB" % (rss_first, rss_last))
    for p in problems:
        print("soak: PROBLEM " + p)
    print("soak: " + ("FAILED" if problems else "ok, verify clean"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

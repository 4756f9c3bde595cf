#!/usr/bin/env python3
"""Turns gazette records (gazette.jsonl.gz, see the corpus README) into one
stand-alone HTML page each, for the ingest benchmark.

    make_html.py --src gazette.jsonl.gz --count N --out DIR

Writes DIR/<date_iso>_<id>.html for N records spread evenly over the file (the
file is sorted by date, so an even spread keeps the mix of years, agencies and
body sizes of the whole sample), and DIR.json, a manifest:

    {"count", "bytes", "source", "source_size", "files": first/last names,
     "probe": {"file", "phrase"}}

"probe" is a run of Chinese characters taken from the visible body text of one
page, for checking afterwards that a search finds it.

The page is the record's body exactly as published (an MS Word HTML fragment)
wrapped with <meta charset>, <title> and the record's 字號, agency and date as
<meta> tags, like page() in the corpus's tools/gazette.py.

N may exceed the number of records (benchmark 7, scaling): the records are
then used again in further rounds, each copy with a changed id (name
<date_iso>_<id>-r<round>.html) and a line naming its round in the body, so
that no two pages have the same bytes (the archive stores identical content
once, which would flatter it).

Deterministic: the same source and N give byte-identical files. When DIR.json
already describes the same source and N and DIR holds exactly those files, it
does nothing (prints "reused").
"""

import argparse
import gzip
import html
import html.parser
import json
import os
import re
import shutil
import sys


def page(rec):
    esc = html.escape
    return ("<!DOCTYPE html>\n<html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(rec.get('title', ''))}</title>"
            f"<meta name=\"gazette-id\" content=\"{esc(rec.get('gazette_id', ''))}\">"
            f"<meta name=\"pub-gov\" content=\"{esc(rec.get('agency', ''))}\">"
            f"<meta name=\"date\" content=\"{esc(rec.get('date_iso', ''))}\">"
            "</head><body>\n" + rec.get("html", "") + "\n</body></html>\n")


class _Text(html.parser.HTMLParser):
    """Visible text of an HTML fragment (skips script, style and comments)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{14,}")


def probe_phrase(body_html):
    """A 10-character run of Han characters from the middle of the body's
    visible text, or None when the body has no run long enough."""
    p = _Text()
    p.feed(body_html)
    runs = _HAN_RUN.findall(" ".join(p.parts))
    if not runs:
        return None
    run = runs[len(runs) // 2]
    start = (len(run) - 10) // 2
    return run[start:start + 10]


def count_lines(path):
    with gzip.open(path, "rb") as f:
        return sum(1 for _ in f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="gazette.jsonl.gz")
    ap.add_argument("--count", type=int, required=True, help="number of pages to write")
    ap.add_argument("--out", required=True, help="folder to (re)create")
    args = ap.parse_args()

    out = args.out.rstrip("/")
    manifest_path = out + ".json"
    st = os.stat(args.src)
    source = {"source": os.path.abspath(args.src), "source_size": st.st_size}

    if os.path.exists(manifest_path) and os.path.isdir(out):
        try:
            with open(manifest_path, encoding="utf-8") as f:
                old = json.load(f)
            if (old.get("count") == args.count and old.get("source_size") == source["source_size"]
                    and len(os.listdir(out)) == args.count):
                print(f"make_html: reused {out} ({args.count} pages, {old['bytes']} bytes)")
                return 0
        except (OSError, ValueError):
            pass

    total = count_lines(args.src)
    if args.count < 1:
        print("make_html: --count must be at least 1", file=sys.stderr)
        return 2

    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    if os.path.exists(manifest_path):
        os.remove(manifest_path)

    names, nbytes, probe = [], 0, None
    probe_at = args.count // 2
    for rnd in range((args.count + total - 1) // total):
        quota = min(total, args.count - rnd * total)  # pages of this round
        with gzip.open(args.src, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                # Exactly `quota` of the total lines, evenly spaced.
                if (i * quota) % total >= quota:
                    continue
                rec = json.loads(line)
                suffix = f"-r{rnd}" if rnd else ""
                if rnd:
                    rec["id"] = f"{rec['id']}{suffix}"
                    rec["html"] = f"<p>副本第{rnd}輪</p>" + rec.get("html", "")
                name = f"{rec['date_iso']}_{rec['id']}.html"
                data = page(rec).encode("utf-8")
                with open(os.path.join(out, name), "wb") as g:
                    g.write(data)
                nbytes += len(data)
                if probe is None and len(names) >= probe_at:
                    phrase = probe_phrase(rec.get("html", ""))
                    if phrase:
                        probe = {"file": name, "phrase": phrase}
                names.append(name)

    if len(names) != args.count:
        print(f"make_html: wrote {len(names)} pages, expected {args.count}", file=sys.stderr)
        return 1
    manifest = {"count": len(names), "bytes": nbytes, **source,
                "first": names[0], "last": names[-1], "probe": probe}
    with open(manifest_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)
    print(f"make_html: wrote {len(names)} pages, {nbytes} bytes, to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

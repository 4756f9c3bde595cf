#!/usr/bin/env python3
"""Prints the Simplified->Traditional tables for daemon/web/lang.js.

Every Han character in the UI (daemon/web's pages and scripts, the pages
rendered in daemon/src) is converted one by one with OpenCC's s2tw (Taiwan
standard characters, mainland wording kept); where OpenCC converts a word
differently from its characters one by one (复议 -> 復議, 重复 -> 重複), the
shortest such word around the character is listed as a phrase. Re-run after
adding UI text and paste the output into lang.js:

    tools/ui-s2t.py > /tmp/tables.js

With --check it prints nothing and exits 1 when lang.js's tables are not
these (exit 77, "skipped", without the opencc program): the test web_s2t.
"""
import pathlib
import re
import shutil
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
files = [p for p in sorted((root / "daemon" / "web").iterdir())
         if p.suffix in (".html", ".js") and p.name != "lang.js"]
files += [root / "daemon" / "src" / n for n in ("page_chrome.cc", "http_guide.cc", "http_catalogue.cc", "http_search.cc")]
if shutil.which("opencc") is None:
    print("SKIPPED: the opencc program is not installed (apt-get install opencc)")
    sys.exit(77)
han = re.compile(r"[\u3400-\u9fff]+")
runs = sorted({r for p in files for r in han.findall(p.read_text(encoding="utf-8"))})


def s2t(texts):
    out = subprocess.run(["opencc", "-c", "s2tw"], input="\n".join(texts) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return out.split("\n")[:len(texts)]


chars = sorted({c for r in runs for c in r})
char_map = {c: t for c, t in zip(chars, s2t(chars)) if c != t}
phrases = {}
for run, converted in zip(runs, s2t(runs)):
    one_by_one = "".join(char_map.get(c, c) for c in run)
    for i, (want, got) in enumerate(zip(converted, one_by_one)):
        if want == got:
            continue
        windows = [(a, b) for n in (2, 3, 4) for a in range(max(0, i - n + 1), i + 1)
                   for b in [a + n] if b <= len(run)]
        for a, b in windows:
            word = run[a:b]
            if s2t([word])[0][i - a] == want:
                phrases[word] = s2t([word])[0]
                break
tables = ("  const CHARS = '" + "".join(c + t for c, t in char_map.items()) + "';\n" +
          "  const PHRASES = {" + ", ".join(f"{k}: '{v}'" for k, v in sorted(phrases.items())) + "};\n")
if "--check" not in sys.argv:
    sys.stdout.write(tables)
elif tables not in (root / "daemon" / "web" / "lang.js").read_text(encoding="utf-8"):
    sys.exit("daemon/web/lang.js: the conversion tables are not those of today's UI text; "
             "run tools/ui-s2t.py and paste its output into lang.js")

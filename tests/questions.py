#!/usr/bin/env python3
"""Citizens' questions about known documents of ../shared/corpus, and how a
gongkai daemon answers them (issue 18).

  questions.py generate --corpus DIR --split dev|test > questions.tsv
  questions.py generate --bench-pages DIR --bench-source FILE.jsonl.gz --split test
  questions.py eval --url http://127.0.0.1:PORT --questions questions.tsv \
      [--param share=pub] [--param relax=0] [--label NAME] [--json OUT]

generate: one question per known document and split, asked as a person
would: a fragment of the title or subject (a span, or two pieces out of
order joined by 的 or a space), sometimes with the agency, wrapped in a
question frame (请问…在哪里, …怎么查, 有没有…), in the document's script or
the other one (OpenCC's `opencc` command converts). The two splits use
disjoint frames and different fragments: tune on dev, report test. A
question is kept only if it is specific (4 characters or more, one piece of
3 or more) and its pieces occur together in the titles of at most three
documents (a copy in another format counts as the same document). Deterministic: the same corpus gives the
same questions. Columns: id, source, script, question, expected paths (|).

eval: asks each question (anonymous, limit 10) and prints success@1,
success@10, the zero-result rate, how many answers were relaxed and the
latency; --json writes the same figures for a test to check.
"""
import argparse
import glob
import gzip
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

try:
    import jieba  # Debian's python3-jieba: word boundaries for fragments
except ImportError:
    jieba = None

# Question frames, Simplified; {f} is the fragment, {a} the agency (or "").
FRAMES = {
    "dev": [
        "请问{a}{f}在哪里", "{a}关于{f}的规定", "{f}怎么查", "我想查一下{f}", "有没有{a}{f}的文件",
        "{f}是什么时候发布的", "{a}的{f}", "哪里可以看到{f}", "帮我找一下{a}{f}", "{f}的内容是什么",
        "{f}", "{a} {f}",
    ],
    "test": [
        "请问一下{a}有关{f}的公告在哪儿", "{f}在哪里能查到", "想了解{f}", "{a}发布过{f}吗", "{f}的具体内容",
        "查询{f}", "{f}有哪些规定", "能不能告诉我{f}在哪", "{a}{f}的文件", "{f}是怎么规定的",
        "{f}最新的是哪个", "请提供{a}{f}",
    ],
}
FRAMES_EN = {
    "dev": ["where can I find the {f}", "what does the {f} say", "{f} full text please", "is there a {f}"],
    "test": ["how do I read the {f}", "I am looking for the {f}", "show me the {f}", "where is the {f}"],
}
EN_FUNCTION = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "by", "at"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def opencc(config, lines):
    if not lines:
        return []
    text = "\n".join(s.replace("\n", " ") for s in lines) + "\n"
    out = subprocess.run(["opencc", "-c", config], input=text.encode(), capture_output=True,
                         check=True).stdout.decode()
    result = out.split("\n")[:len(lines)]
    assert len(result) == len(lines), "opencc changed the number of lines"
    return result


def documents(corpus):
    """Known documents: (rel, script, title, subject, agency)."""
    docs = []
    gazette = os.path.join(corpus, "zh-hant/ey-gazette/records.jsonl")
    with open(gazette, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            docs.append(("zh-hant/ey-gazette/" + o["html_file"], "hant", o.get("Title", ""),
                         o.get("ThemeSubject", ""), o.get("PubGovName", "")))
    for path in sorted(glob.glob(os.path.join(corpus, "zh-hant/moj-law/*.json"))):
        with open(path, encoding="utf-8-sig") as f:
            o = json.load(f)
        docs.append((os.path.relpath(path, corpus), "hant", o.get("法規名稱", ""), "", ""))
    for path in sorted(glob.glob(os.path.join(corpus, "zh-hans/prc-laws/**/*.md"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            first = f.readline().strip()
        if first.startswith("# "):
            docs.append((os.path.relpath(path, corpus), "hans", first[2:], "", ""))
    index = os.path.join(corpus, "zh-hans/gov-work-reports-2026/index.tsv")
    with open(index, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            docs.append(("zh-hans/gov-work-reports-2026/" + cols[0], "hans", cols[1] + "政府工作报告",
                         "", ""))
    for path in sorted(glob.glob(os.path.join(corpus, "en/moj-law-en/*.json"))):
        with open(path, encoding="utf-8-sig") as f:
            o = json.load(f)
        docs.append((os.path.relpath(path, corpus), "en", o.get("英文法規名稱", ""), "", ""))
    return [d for d in docs if d[2]]


def bench_documents(pages, source):
    """The gazette records bench/make_html.py made pages of (NAME_ID.html)."""
    names = {os.path.splitext(n)[0].rsplit("_", 1)[-1]: n for n in os.listdir(pages)
             if n.endswith(".html")}
    docs = []
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if o["id"] in names:
                docs.append((names[o["id"]], "hant", o.get("title", ""), "", o.get("agency", "")))
    return [d for d in docs if d[2]]


def copies(corpus):
    """source rel -> the machine conversions of it (generated/)."""
    out = {}
    with open(os.path.join(corpus, "generated/manifest.tsv"), encoding="utf-8") as f:
        for line in f:
            gid, src = line.rstrip("\n").split("\t")
            for p in glob.glob(os.path.join(corpus, "generated/*", gid + ".*")):
                out.setdefault(src, []).append(os.path.relpath(p, corpus))
    return out


# Words a title is made of that people leave out.
FUNCTION = {"公告", "修正", "订定", "废止", "增订", "发布", "关于", "有关", "令", "及", "与", "和", "之",
            "的", "并", "暨", "等", "部分", "条文", "第", "将", "名称"}


def title_words(title):
    """The words (jieba) of a Simplified title, after an agency's "X公告：" lead."""
    if "：" in title and len(title.split("：", 1)[1]) >= 4:
        title = title.split("：", 1)[1]
    return [w for w in jieba.lcut(title) if HAN.search(w) or w.isdigit()]


def fragment(rng, ws):
    """A run of words, or a few content words joined as people type them."""
    content = [w for w in ws if w not in FUNCTION and len(w) >= 2]
    if len(content) >= 2 and rng.random() < 0.4:
        k = rng.randint(2, min(3, len(content)))
        picked = sorted(rng.sample(range(len(content)), k))
        pieces = [content[i] for i in picked]
        if rng.random() < 0.3:
            rng.shuffle(pieces)
        return pieces
    ws = ws[next((i for i, w in enumerate(ws) if w not in FUNCTION), 0):]
    if not ws:
        return []
    target = rng.randint(3, 10)
    first = rng.randrange(len(ws))
    while first > 0 and ws[first] in FUNCTION:
        first -= 1
    run = ""
    for w in ws[first:]:
        if len(HAN.findall(run)) >= target:
            break
        run += w
    return [run]


def generate(args):
    if jieba is None:
        sys.exit("questions.py: generate needs jieba (apt install python3-jieba)")
    import logging
    jieba.setLogLevel(logging.WARNING)
    if args.bench_pages:
        docs, conversions = bench_documents(args.bench_pages, args.bench_source), {}
    else:
        docs, conversions = documents(args.corpus), copies(args.corpus)
    # Everything compared in Simplified: titles, subjects, agencies.
    hans = opencc("t2s.json", [t for d in docs for t in (d[2], d[3], d[4])])
    described = [(d, hans[3 * i], hans[3 * i + 1], hans[3 * i + 2]) for i, d in enumerate(docs)]
    rng = random.Random("gongkai-questions-" + args.split)
    frames = ["{f}"] if args.plain else FRAMES[args.split]
    out = []  # (id, source, script, question in Simplified or English, convert?, expected)
    for (rel, script, title, _, _), t, subject, agency in described:
        expected = [rel] + sorted(conversions.get(rel, []))
        source = rel.split("/")[1] if "/" in rel else "bench"
        if script == "en":
            # A run of the name's words that starts and ends with a content word.
            words = re.findall(r"[A-Za-z]+", title)
            content = [i for i, w in enumerate(words) if w.lower() not in EN_FUNCTION]
            if len(content) < 2:
                continue
            a = rng.randrange(len(content) - 1)
            b = rng.randint(a + 1, min(a + 3, len(content) - 1))
            f = " ".join(words[content[a]:content[b] + 1])
            if sum(f.lower() in d[0][2].lower() for d in described if d[0][1] == "en") > 5:
                continue
            frame = "{f}" if args.plain else rng.choice(FRAMES_EN[args.split])
            out.append((source, "en", frame.format(f=f), False, expected))
            continue
        if source == "gov-work-reports-2026":
            province = title[:-len("政府工作报告")]
            short = re.sub("(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区)$", "", province)
            pieces = [rng.choice([province, short]), rng.choice(["政府工作报告", "工作报告", "2026年政府工作报告"])]
            agency = ""
        else:
            ws = title_words(subject if subject and rng.random() < 0.3 else t)
            pieces = fragment(rng, ws)
            # Specific enough to be answerable: four characters or more, one
            # piece of three or more, and the pieces together in the titles
            # of at most three documents.
            if (sum(len(HAN.findall(p)) for p in pieces) < 4 or
                    max(len(HAN.findall(p)) for p in pieces) < 3):
                continue
            holders = {d[0][0] for d in described
                       if all(p in d[1] + d[2] + d[0][0] for p in pieces)}
            if len(holders) > 3:
                continue
        sep = rng.choice(["的", " ", ""]) if len(pieces) > 1 else ""
        f = sep.join(pieces)
        frame = rng.choice(frames)
        a = agency if "{a}" in frame and agency and rng.random() < 0.5 else ""
        question = frame.format(f=f, a=a).strip()
        other = rng.random() < 0.5
        traditional = (script == "hant") != other
        out.append((source, "hant" if traditional else "hans", question, traditional, expected))
    converted = opencc("s2t.json", [q[2] for q in out if q[3]])
    it = iter(converted)
    w = sys.stdout
    for i, (source, script, question, convert, expected) in enumerate(out):
        if convert:
            question = next(it)
        w.write(f"{args.split}-{i:04d}\t{source}\t{script}\t{question}\t{'|'.join(expected)}\n")
    print(f"questions.py: {len(out)} questions ({args.split})", file=sys.stderr)


def evaluate(args):
    params = dict(p.split("=", 1) for p in args.param)
    questions = []
    with open(args.questions, encoding="utf-8") as f:
        for line in f:
            qid, source, script, q, expected = line.rstrip("\n").split("\t")
            questions.append((qid, source, script, q, set(expected.split("|"))))
    top1 = top10 = zero = relaxed = 0
    # Latencies of all answers, of those with results, of those with a full page (10).
    latencies, answered, full, misses = [], [], [], []
    for qid, source, script, q, expected in questions:
        query = dict(params, q=q, limit="10")
        url = args.url + "/api/v1/search?" + urllib.parse.urlencode(query)
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as r:
            answer = json.load(r)
        latencies.append(time.perf_counter() - start)
        if answer["total"] > 0:
            answered.append(latencies[-1])
        if len(answer["results"]) == 10:
            full.append(latencies[-1])
        paths = [h["path"] for h in answer["results"]]
        rank = next((i + 1 for i, p in enumerate(paths) if p in expected), None)
        top1 += rank == 1
        top10 += rank is not None
        zero += answer["total"] == 0
        relaxed += bool(answer.get("relaxed"))
        if rank is None:
            misses.append(f"{qid} {q}  ({answer['total']} results; first: "
                          f"{paths[0] if paths else '-'})")
    n = len(questions)
    latencies.sort()
    for values in (answered, full):
        values.sort()
        if not values:
            values.append(0.0)
    p99 = lambda values: 1000 * values[min(len(values) - 1, (99 * len(values)) // 100)]
    summary = {
        "label": args.label, "questions": n,
        "success_at_1": top1 / n, "success_at_10": top10 / n, "zero_results": zero / n,
        "relaxed": relaxed / n,
        "p50_ms": 1000 * latencies[n // 2], "p99_ms": p99(latencies),
        "p99_answered_ms": p99(answered), "p99_full_page_ms": p99(full), "full_pages": len(full),
    }
    print(f"{args.label:<10} {n:>5} questions  success@1 {100 * summary['success_at_1']:5.1f} %  "
          f"success@10 {100 * summary['success_at_10']:5.1f} %  zero results "
          f"{100 * summary['zero_results']:5.1f} %  relaxed {100 * summary['relaxed']:5.1f} %  "
          f"p50 {summary['p50_ms']:.1f} ms  p99 {summary['p99_ms']:.1f} ms "
          f"(answered {summary['p99_answered_ms']:.1f} ms, full page {summary['p99_full_page_ms']:.1f} ms)")
    if args.misses:
        for m in misses:
            print("  missed: " + m)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the questions of a split as TSV to stdout")
    g.add_argument("--corpus", help="../shared/corpus/docs")
    g.add_argument("--bench-pages", help="instead: the pages bench/make_html.py made (NAME_ID.html)")
    g.add_argument("--bench-source", help="with --bench-pages: corpus/bench/gazette.jsonl.gz")
    g.add_argument("--split", choices=["dev", "test"], required=True)
    g.add_argument("--plain", action="store_true",
                   help="the fragments alone, without question frames: a search box's usual words")
    e = sub.add_parser("eval", help="ask a running daemon the questions")
    e.add_argument("--url", required=True)
    e.add_argument("--questions", required=True)
    e.add_argument("--param", action="append", default=[], help="extra search parameter k=v")
    e.add_argument("--label", default="answers")
    e.add_argument("--json", help="write the figures here")
    e.add_argument("--misses", action="store_true", help="list the questions missed")
    args = parser.parse_args()
    if args.command == "generate" and not (args.corpus or (args.bench_pages and args.bench_source)):
        parser.error("generate needs --corpus, or --bench-pages and --bench-source")
    generate(args) if args.command == "generate" else evaluate(args)


if __name__ == "__main__":
    main()

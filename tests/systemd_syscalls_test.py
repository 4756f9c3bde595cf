#!/usr/bin/env python3
"""Every system call gongkaid makes is allowed by the unit's SystemCallFilter=.

The hardened unit (systemd/gongkaid.service) cannot be started where systemd
is not PID 1, and a call its seccomp filter refuses would only show up in
production, as EPERM. So: run the real daemon under strace, as a non-root user
like the unit's User= (as root, SQLite calls fchown(), which the unit
forbids and never needs), through start-up, archiving and indexing text, HTML,
OOXML and a zip, searches, a content download, SIGHUP (an unchanged config,
then a changed one: the restart in place, requested and waited for by
`gongkaid --reload`, the unit's ExecReload=, which is traced too) and SIGTERM; then expand the unit's
SystemCallFilter= lines with `systemd-analyze syscall-filter` and check every
call made against them.

usage: systemd_syscalls_test.py SOURCE_DIR GONGKAID. Exit 77 = skipped.
"""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

SKIP = 77


def syscall_groups():
    """{"@group": [members, "@subgroup", ...]} from systemd-analyze."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True,
                         check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if re.fullmatch(r"@\S+", line.strip()) and not line.startswith(" "):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())
    return groups


def expand(names, groups):
    calls = set()
    for name in names:
        calls |= expand(groups.get(name, []), groups) if name.startswith("@") else {name}
    return calls


def unit_filter(unit, groups):
    """(allowed, denied) per systemd.exec(5): the first non-~ line sets an
    allow list; later lines, in order, subtract (~) from it or add back to it."""
    allowed, denied = None, set()
    for line in open(unit, encoding="utf-8"):
        m = re.match(r"SystemCallFilter=(~?)(.*)", line.strip())
        if not m:
            continue
        names = expand(m.group(2).split(), groups)
        if m.group(1):
            denied |= names
        else:
            allowed = names if allowed is None else allowed | names
            denied -= names
    return allowed, denied


def make_share(share, source):
    demo = os.path.join(source, "demo", "share")
    shutil.copytree(demo, share, dirs_exist_ok=True)
    with zipfile.ZipFile(os.path.join(share, "報告.docx"), "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                   'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>系統呼叫過濾測試</w:t></w:r></w:p>'
                   '</w:body></w:document>')
    with zipfile.ZipFile(os.path.join(share, "附件.zip"), "w") as z:
        z.writestr("說明.txt", "壓縮檔成員\n")
    # The documents: every file but the metadata sidecars (NAME.meta.json).
    return sum(1 for _, _, files in os.walk(share) for f in files if not f.endswith(".meta.json"))


def main():
    source, gongkaid = sys.argv[1], sys.argv[2]
    for tool in ("strace", "systemd-analyze"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found (apt-get install strace systemd)")
            return SKIP
    groups = syscall_groups()
    allowed, denied = unit_filter(os.path.join(source, "systemd", "gongkaid.service"), groups)
    if not allowed:
        print("FAIL: no SystemCallFilter= allow list in the unit")
        return 1

    root = tempfile.mkdtemp(prefix="gongkai-syscalls-")
    try:
        share, data = os.path.join(root, "share"), os.path.join(root, "data")
        files = make_share(share, source)
        os.mkdir(data)
        with open(os.path.join(root, "gongkaid.conf"), "w", encoding="utf-8") as f:
            f.write(f"[daemon]\ndata_dir = {data}\nlisten = 127.0.0.1:0\nsettle = 200ms\n\n"
                    f"[share.s]\npath = {share}\n")
        trace, log = os.path.join(root, "trace"), os.path.join(root, "daemon.log")
        reload_trace = os.path.join(root, "trace.reload")
        command = ["strace", "-f", "-qq", "-o", trace, gongkaid, "--config", os.path.join(root, "gongkaid.conf")]
        as_user = []  # what runs the daemon, and the reload request, as the unit's user would
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for path in (root, data):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            os.chmod(root, 0o755)
            # The build folder may sit where nobody cannot reach (/root is 0700):
            # run copies of the daemon and its extraction worker from here.
            bin_dir = os.path.join(root, "bin")
            os.mkdir(bin_dir)
            for program in ("gongkaid", "gongkai-extract"):
                built = os.path.join(os.path.dirname(gongkaid), program)
                if os.path.exists(built):
                    shutil.copy2(built, bin_dir)
            command[command.index(gongkaid)] = os.path.join(bin_dir, "gongkaid")
            as_user = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
            command = as_user + command

        program = command[command.index("--config") - 1]  # the daemon binary run
        with open(log, "w") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            port, deadline = None, time.time() + 60
            while port is None and time.time() < deadline and proc.poll() is None:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(log).read())
                port = m and m.group(1)
                time.sleep(0.1)
            if port is None:
                text = open(log).read()
                if "ptrace" in text or "PTRACE" in text:
                    print("SKIP: strace cannot trace here:\n" + text)
                    return SKIP
                print("FAIL: the daemon did not start:\n" + text)
                return 1
            base = f"http://127.0.0.1:{port}"
            # Wait until everything is archived and indexed: all documents listed.
            deadline, results = time.time() + 120, []
            while time.time() < deadline:
                results = json.load(urllib.request.urlopen(base + "/api/v1/search?q=&limit=100"))["results"]
                if len(results) >= files:
                    break
                time.sleep(0.3)
            if len(results) < files:
                print(f"FAIL: {len(results)} of {files} documents listed after 120 s:\n" + open(log).read())
                return 1
            urllib.request.urlopen(base + "/api/v1/search?q=%E7%B3%BB%E7%B5%B1").read()  # 系統
            urllib.request.urlopen(base + "/").read()
            if results:
                doc = results[0]
                urllib.request.urlopen(f"{base}/api/v1/documents/{doc['id']}/versions/1/content").read()
                urllib.request.urlopen(f"{base}/api/v1/documents/{doc['id']}/versions/1/proof").read()
            time.sleep(0.5)
            # setpriv executes strace, whose child is the daemon.
            daemon = int(subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                        text=True).stdout.split()[0])
            os.kill(daemon, signal.SIGHUP)  # unchanged config: tokens and key reloaded in place
            time.sleep(1)
            # A changed config: the daemon restarts itself in place (execve).
            # Through the unit's ExecReload= (gongkaid --reload), traced as
            # well: it runs under the same filter, and waits for the answer
            # the restarted daemon sends once it listens again.
            with open(os.path.join(root, "gongkaid.conf"), "a", encoding="utf-8") as f:
                f.write("\n[share.t]\npath = " + os.path.join(root, "share2") + "\n")
            # LeakSanitizer cannot work under ptrace (sanitizer builds).
            no_leak_check = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
            reload = subprocess.run(as_user + ["strace", "-f", "-qq", "-o", reload_trace, program,
                                               "--reload", str(daemon), "--timeout", "60"],
                                    capture_output=True, text=True, timeout=90, env=no_leak_check)
            if reload.returncode != 0 or open(log).read().count("listening on") < 2:
                print(f"FAIL: gongkaid --reload exited {reload.returncode}: {reload.stdout}{reload.stderr}\n"
                      + open(log).read())
                return 1
            os.kill(daemon, signal.SIGTERM)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        text = open(log).read()
        if "stopped" not in text:
            print("FAIL: the daemon did not stop cleanly:\n" + text)
            return 1
        if "restarting in place" not in text or text.count("listening on") < 2:
            print("FAIL: the daemon did not restart itself after SIGHUP with a changed config:\n" + text)
            return 1
        used = set()
        for path in (trace, reload_trace):
            for line in open(path, errors="replace"):
                m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
                if m:
                    used.add(m.group(1))
        used.discard("execve")  # strace's own exec of the daemon; allowed anyway
        print(f"{len(used)} distinct system calls over {len(results)} documents")
        refused = sorted(c for c in used if c not in allowed or c in denied)
        if refused:
            print("FAIL: refused by the unit's SystemCallFilter=: " + " ".join(refused))
            return 1
        print("ok: every call is allowed by the unit's SystemCallFilter=")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

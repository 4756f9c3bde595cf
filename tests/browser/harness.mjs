// What the browser tests share: TAP-like steps (ok, check), a program of
// ours started on a free port and stopped, chromium's launch flags, and the
// runner that bounds a test's time and prints its outcome.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chromium } from 'playwright-core';

export class TestFailure extends Error {}
export const steps = [];
export function ok(what) {
  steps.push(what);
  console.log(`ok ${steps.length} - ${what}`);
}
export function check(cond, what) {
  if (!cond) throw new TestFailure(what);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// gongkaid or gongkai-hub, started with `--config this.config` (which a
// subclass sets, with `this.logPath`): ready once it logs its port and GET
// `ready` answers 200 (within 60 s); `base` is its URL then.
export class Program {
  constructor(bin, name = 'gongkaid', ready = '/healthz') {
    Object.assign(this, { bin, name, ready });
    this.logText = '';
  }

  async start() {
    const log = createWriteStream(this.logPath);
    this.proc = spawn(this.bin, ['--config', this.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    let exitInfo = null;
    this.exited.then((e) => { exitInfo = e; });
    const onData = (d) => { this.logText += d.toString('utf8'); log.write(d); };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
      if (exitInfo) throw new TestFailure(`${this.name} exited during start-up (${JSON.stringify(exitInfo)}):\n${this.logText}`);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.logText);
      if (!m) continue;
      this.base = `http://127.0.0.1:${m[1]}`;
      try {
        if ((await fetch(`${this.base}${this.ready}`)).status === 200) return;
      } catch { /* not yet */ }
    }
    throw new TestFailure(`${this.name} did not answer ${this.ready} within 60 s:\n${this.logText}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// Debian's chromium, headless, without anything that reaches out.
// A full-page screenshot of `page` as it was when a step failed, if it is
// still open; a failure to take it is not the test's failure.
export async function shootFailure(page, path) {
  if (!page || page.isClosed()) return;
  try { await page.screenshot({ path, fullPage: true }); } catch { /* ignore */ }
}

export function launchChromium(executablePath, extraArgs = []) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', ...extraArgs],
  });
}

// Runs `main`, failing it after `timeoutMs`; prints the outcome and sets the
// exit status.
export function runMain(main, { artifactDir, timeoutMs }) {
  const guard = setTimeout(() => {
    console.error(`FAIL: the browser test did not finish within ${timeoutMs / 1000} s`);
    process.exit(1);
  }, timeoutMs);
  guard.unref();
  main().then(() => {
    console.log(`\nscreenshots and logs in ${artifactDir}`);
    console.log(`${steps.length} passed, 0 failed`);
  }, (e) => {
    process.exitCode = 1;
    console.error(`\nFAIL: ${e instanceof TestFailure ? e.message : e.stack || e}`);
    console.error(`(screenshots and logs in ${artifactDir})`);
    console.log(`${steps.length} passed, 1 failed`);
  });
}

// Browser test of the county inspector's page (/county on gongkai-hub),
// against the real programs through Debian's chromium with playwright-core:
// a real gongkaid township with one public document and one disclosure
// request, the real gongkai-hub mirroring it with a hub token, its catalog on
// a real PostgreSQL started here. The page asks for a token, refuses a wrong
// one, shows the township, its office and table 三 from GET /api/v1/county
// once given the right one, keeps the token for the tab only, shows no
// applicant's details, and has no axe-core violation of impact "serious" or
// "critical".
//
//   GONGKAID=... GONGKAI_HUB=... node county_page_test.mjs
//
// Environment: ARTIFACT_DIR (screenshots and logs; default
// <repo>/build/test-artifacts), CHROMIUM (default /usr/bin/chromium),
// GONGKAI_PG_BINDIR (initdb and pg_ctl; default the newest
// /usr/lib/postgresql/*/bin). Exits 77 (skipped) without PostgreSQL's server
// programs; non-zero, with the reason, on any failure.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Program, TestFailure, check, launchChromium, ok, runMain, sha256, sleep, shootFailure } from './harness.mjs';
import { axeViolations } from './axe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.resolve(here, '..', '..');
const GONGKAID = process.env.GONGKAID;
const GONGKAI_HUB = process.env.GONGKAI_HUB;
const ARTIFACT_DIR = path.resolve(process.env.ARTIFACT_DIR || path.join(SOURCE, 'build', 'test-artifacts'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 8 * 60 * 1000;
const APPLICANT = '县级页面测试申请人';

const newToken = () => `gk_${randomBytes(24).toString('hex')}`;

async function eventually(what, fn, ms = 60_000) {
  let last;
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(200)) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
  }
  throw new TestFailure(`${what} (within ${ms / 1000} s; last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// ---------------------------------------------------------------- PostgreSQL

// A throwaway server listening on a unix socket in its own folder only, run
// as `nobody` when this test runs as root (initdb refuses root).
class Postgres {
  constructor(bindir) {
    this.bin = bindir;
    this.dir = mkdtempSync(path.join(tmpdir(), 'gongkai-county-pg-'));
    this.asOwner = process.getuid() === 0 ? ['runuser', '-u', 'nobody', '--'] : [];
  }

  run(program, args) {
    const [cmd, ...rest] = [...this.asOwner, path.join(this.bin, program), ...args];
    execFileSync(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  start() {
    if (this.asOwner.length) {
      const id = (flag) => Number(execFileSync('id', [flag, 'nobody']).toString().trim());
      chownSync(this.dir, id('-u'), id('-g'));
    }
    const data = path.join(this.dir, 'data');
    this.run('initdb', ['-D', data, '-U', 'gongkai', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    this.run('pg_ctl', ['-D', data, '-l', path.join(this.dir, 'server.log'), '-w', '-o',
      `-c listen_addresses= -c unix_socket_directories=${this.dir}`, 'start']);
    this.conninfo = `postgresql:///postgres?host=${this.dir}&user=gongkai`;
  }

  stop() {
    try {
      this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch { /* already gone */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresBindir() {
  if (process.env.GONGKAI_PG_BINDIR) return process.env.GONGKAI_PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length ? path.join(root, versions.at(-1), 'bin') : null;
}

// ------------------------------------------------------------------ programs

// A program of ours with the configuration and log it is given.
class Configured extends Program {
  constructor(bin, config, name, ready) {
    super(bin, name, ready);
    this.config = config;
    this.logPath = path.join(ARTIFACT_DIR, `county-${name}.log`);
  }
}

async function main() {
  for (const [name, bin] of [['GONGKAID', GONGKAID], ['GONGKAI_HUB', GONGKAI_HUB]])
    check(bin && existsSync(bin), `set ${name} to the built program (${bin} not found)`);
  check(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  const bindir = postgresBindir();
  if (!bindir) {
    console.log('SKIPPED: PostgreSQL\'s server programs (initdb, pg_ctl) not found; apt-get install postgresql');
    process.exit(77);
  }
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const shot = (name) => path.join(ARTIFACT_DIR, `county-${name}`);
  const root = mkdtempSync(path.join(tmpdir(), 'gongkai-county-'));
  const pg = new Postgres(bindir);
  const stops = [];
  let browser = null;
  let page = null;
  try {
    pg.start();
    stops.push(() => pg.stop());
    ok(`PostgreSQL from ${bindir} is up`);

    // The township: one public document, a hub token for the county.
    const share = path.join(root, 'node', 'share');
    mkdirSync(share, { recursive: true });
    writeFileSync(path.join(share, 'notice.txt'), '东山乡关于防汛工作的通知。\n');
    const hubToken = newToken();
    writeFileSync(path.join(root, 'node', 'tokens'), `hub ${sha256(hubToken)} county-hub\n`, { mode: 0o600 });
    writeFileSync(path.join(root, 'node', 'gongkaid.conf'), [
      '[daemon]', `data_dir = ${path.join(root, 'node', 'data')}`, 'listen = 127.0.0.1:0', 'settle = 300ms', '',
      '[log]', 'origin = dongshan.county.test', '',
      '[auth]', `tokens_file = ${path.join(root, 'node', 'tokens')}`, '',
      '[disclosure]', `calendar = ${path.join(SOURCE, 'data', 'calendar')}`, '',
      '[share.pub]', `path = ${share}`, 'office = 东山乡党政办', '',
    ].join('\n'));
    const node = new Configured(GONGKAID, path.join(root, 'node', 'gongkaid.conf'), 'gongkaid', '/healthz');
    await node.start();
    stops.push(() => node.stop());
    const request = await fetch(`${node.base}/api/v1/requests`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ applicant: { name: APPLICANT, contact: '13800000000' }, description: '防汛物资清单' }),
    });
    check(request.status === 201, `a disclosure request is filed at the township: ${request.status}`);
    const noteKey = (await (await fetch(`${node.base}/api/v1/keys`)).json()).keys[0].note_key;
    ok(`the township is up at ${node.base}`);

    // The county hub, mirroring it with the hub token.
    const inspector = newToken();
    const hubDir = path.join(root, 'hub');
    mkdirSync(hubDir);
    writeFileSync(path.join(hubDir, 'tokens'), `inspector ${sha256(inspector)} county-inspector\n`, { mode: 0o600 });
    writeFileSync(path.join(hubDir, 'hub-token'), `${hubToken}\n`, { mode: 0o600 });
    writeFileSync(path.join(hubDir, 'gongkai-hub.conf'), [
      '[hub]', `data_dir = ${path.join(hubDir, 'data')}`, 'listen = 127.0.0.1:0', `postgres = ${pg.conninfo}`,
      'name = county.browser.test/witness', 'sync_interval = 300ms', `tokens = ${path.join(hubDir, 'tokens')}`, '',
      '[node.dongshan]', `url = ${node.base}`, `note_key = ${noteKey}`, `token_file = ${path.join(hubDir, 'hub-token')}`, '',
    ].join('\n'));
    const hub = new Configured(GONGKAI_HUB, path.join(hubDir, 'gongkai-hub.conf'), 'gongkai-hub', '/api/v1/status');
    await hub.start();
    stops.push(() => hub.stop());
    const county = await eventually('the hub reads the township\'s reports and its request', async () => {
      const c = await (await fetch(`${hub.base}/api/v1/county`, { headers: { Authorization: `Bearer ${inspector}` } })).json();
      const n = c.nodes?.dongshan;
      return n && n.inspected && n.tree_size > 0 && n.requests.open === 1 && c.table3?.new?.total === 1 ? c : false;
    });
    ok(`the hub mirrors the township (tree size ${county.nodes.dongshan.tree_size}) and reads its reports`);

    browser = await launchChromium(CHROMIUM);
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });

    // No token yet: the form, not the view.
    await page.goto(`${hub.base}/county`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    check(await page.locator('#county-view').isHidden(), 'without a token the view is hidden');
    ok('/county asks for a token first');

    // A wrong token: refused, said so, still the form.
    await page.fill('#token', 'not-a-token');
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-error').filter({ hasText: '令牌无效' }).waitFor({ timeout: 10_000 });
    check(await page.locator('#county-view').isHidden(), 'a wrong token shows nothing');
    ok('a wrong token is refused on the page');

    // The inspector's token: the township, its office and table 三.
    problems.length = 0;  // the 401 of the wrong token is logged by chromium
    await page.fill('#token', inspector);
    await page.click('#token-form button[type=submit]');
    await page.locator('#county-view').waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('#towns tbody tr').first().waitFor();
    const towns = await page.locator('#towns tbody tr').allInnerTexts();
    check(towns.length === 1 && towns[0].startsWith('dongshan'), `one township row: ${JSON.stringify(towns)}`);
    const cells = await page.locator('#towns tbody tr td').allInnerTexts();
    check(cells[1] === String(county.nodes.dongshan.tree_size), `its verified records: ${JSON.stringify(cells)}`);
    check(cells[4] === '正常' && cells[6] === '1', `its mirror is current and one request is open: ${JSON.stringify(cells)}`);
    const offices = await page.locator('#offices tbody tr').allInnerTexts();
    check(offices.length === 1 && offices[0].includes('东山乡党政办'), `its office: ${JSON.stringify(offices)}`);
    const summary = await page.locator('#county-summary').innerText();
    check(summary.startsWith('1 个乡镇'), `the summary counts one township: ${summary}`);
    const newRow = await page.locator('#table3 tbody tr').filter({ hasText: '一、本年新收政府信息公开申请数量' }).allInnerTexts();
    check(newRow.length === 1 && /\t1$/.test(newRow[0]), `table 三 counts the new request in its total: ${JSON.stringify(newRow)}`);
    const rows = (await page.locator('#table3 tbody tr').allInnerTexts()).map((t) => t.split('\t')[0].trim());
    const heading = rows.indexOf('三、本年度办理结果');
    check(heading > 0 && rows[heading + 1] === '予以公开' && rows.at(-1) === '四、结转下年度继续办理',
      `table 三 has the national format's heading over the outcomes: ${JSON.stringify(rows)}`);
    const text = await page.evaluate(() => document.body.innerText);
    check(!text.includes(APPLICANT) && !text.includes('13800000000'), 'no applicant\'s details reach the county page');
    check(!text.includes(hubToken) && !text.includes(inspector), 'no token is shown');
    const violations = await axeViolations(page);
    check(violations.length === 0, `axe-core, the county view:\n${violations.join('\n')}`);
    await page.screenshot({ path: shot('view.png'), fullPage: true });
    check(problems.length === 0, `no page or console errors: ${problems.join('; ')}`);
    ok('with the inspector\'s token the page shows the township, its office and table 三, counts only');

    // The token is this tab's: a reload keeps the view, a new tab asks again.
    await page.reload();
    await page.locator('#towns tbody tr').first().waitFor({ timeout: 10_000 });
    const other = await context.newPage();
    await other.goto(`${hub.base}/county`);
    await other.locator('#token-form').waitFor({ state: 'visible' });
    await other.close();
    await page.click('#logout');
    await page.locator('#token-form').waitFor({ state: 'visible' });
    check(await page.evaluate(() => sessionStorage.length) === 0, 'logging out forgets the token');
    ok('the token lives in this tab only, and 退出 forgets it');
  } catch (e) {
    await shootFailure(page, shot('failure.png'));
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const stop of stops.reverse()) await stop();
    rmSync(root, { recursive: true, force: true });
  }
}

runMain(main, { artifactDir: ARTIFACT_DIR, timeoutMs: TOTAL_TIMEOUT_MS });

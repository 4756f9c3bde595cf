// Browser test of the pages for disclosure on application: the online form
// (/apply), tracking by code (/track) and the inspectors' list (/requests),
// against the real gongkaid, driven through Debian's chromium with
// playwright-core.
//
//   GONGKAID=/path/to/gongkaid node request_pages_test.mjs   (or the path as argv[2])
//
// Environment: ARTIFACT_DIR (screenshots and the daemon's log; default
// <repo>/build/test-artifacts), CHROMIUM (default /usr/bin/chromium).
// Exits non-zero, with the reason, on any failure.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Program, check, launchChromium, ok, runMain, sha256, shootFailure } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.resolve(here, '..', '..');
const GONGKAID = process.argv[2] || process.env.GONGKAID;
const ARTIFACT_DIR = path.resolve(process.env.ARTIFACT_DIR || path.join(SOURCE, 'build', 'test-artifacts'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 8 * 60 * 1000;

// What the applicant types: none of it may show on the tracking page.
const APPLICANT = {
  name: '张三丰测试',
  id_number: '110101199003071234',
  contact: 'zhangsan@example.cn',
  address: '北京市东城区某某街道1号',
};
const DESCRIPTION = '2026年度本乡农村低保资金发放明细（乡政发〔2026〕5号）';
const CODE_RE = /^[a-z2-7]{24}$/;
const DATE_RE = /\d{4}-\d{2}-\d{2}/;

// The local date `days` from today, YYYY-MM-DD (the daemon counts in local time too).
function localDate(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// ------------------------------------------------------------------ daemon

class Daemon extends Program {
  constructor(bin) {
    super(bin);
    this.root = mkdtempSync(path.join(tmpdir(), 'gongkai-requests-'));
    const share = path.join(this.root, 'share', 'pub');
    mkdirSync(share, { recursive: true });
    this.inspector = `gk_${randomBytes(24).toString('hex')}`;
    this.admin = `gk_${randomBytes(24).toString('hex')}`;
    const tokens = path.join(this.root, 'tokens');
    writeFileSync(tokens, `inspector ${sha256(this.inspector)} browser-inspector\nadmin ${sha256(this.admin)} browser-admin\n`,
      { mode: 0o600 });
    this.config = path.join(this.root, 'gongkaid.conf');
    writeFileSync(this.config, [
      '[daemon]', `data_dir = ${path.join(this.root, 'data')}`, 'listen = 127.0.0.1:0', 'settle = 300ms', '',
      '[log]', 'origin = requests.gongkai.test', '',
      '[auth]', `tokens_file = ${tokens}`, '',
      '[disclosure]', `calendar = ${path.join(SOURCE, 'data', 'calendar')}`, 'forms_per_hour = 1000',
      'lookups_per_minute = 1000', '',
      '[share.pub]', `path = ${share}`, 'office = 某某乡人民政府', '',
    ].join('\n'));
    this.logPath = path.join(ARTIFACT_DIR, 'daemon-requests.log');
  }

  // The API's JSON answer; fails the test unless it has status `want`.
  async api(method, apiPath, token, body, want) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(`${this.base}${apiPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    check(r.status === want, `${method} ${apiPath}: HTTP ${r.status}, wanted ${want}: ${text}`);
    return JSON.parse(text);
  }
}

// ----------------------------------------------------------------- browser

const activeId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);

// Presses Tab until the element with `id` has focus, as a keyboard user would.
async function tabTo(page, id, maxPresses = 30) {
  for (let i = 0; i < maxPresses; i++) {
    if (await activeId(page) === id) return;
    await page.keyboard.press('Tab');
  }
  check(await activeId(page) === id, `#${id} is not reached with Tab (focus is on #${await activeId(page)})`);
}

// Presses Tab once; focus must land on `id`.
async function tabNext(page, id) {
  await page.keyboard.press('Tab');
  check(await activeId(page) === id, `Tab moves to #${id}, not to #${await activeId(page)}`);
}

async function noHorizontalScroll(page, what) {
  const w = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  check(w.scrollWidth <= w.innerWidth, `no horizontal scrolling on a phone (${what}): ${JSON.stringify(w)}`);
}

// Visible controls smaller than 44 px; a radio button or check box counts by its label.
async function smallTouchTargets(page) {
  return page.evaluate(() => {
    const out = [];
    for (let el of document.querySelectorAll('a[href], button, input, select, textarea')) {
      if (el.matches('input[type=radio], input[type=checkbox]')) el = document.querySelector(`label[for="${el.id}"]`);
      if (!el) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.bottom < 0 || r.right < 0 || r.left > window.innerWidth) continue;
      if (r.height < 44 || r.width < 44) out.push(`${el.tagName.toLowerCase()}#${el.id} "${(el.textContent || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return out;
  });
}

// Every form control on the form, with the text of its <label for>.
const FORM_LABELS = {
  'applicant-type': '申请人类型',
  'applicant-name': '姓名/名称',
  'applicant-id': '证件号码',
  'applicant-contact': '联系方式',
  'applicant-address': '通信地址',
  description: '所需政府信息的名称、文号或者便于查询的其他特征性描述',
  'delivery-email': '电子邮件',
  'delivery-post': '邮寄',
  'delivery-pickup': '自行领取',
};

async function main() {
  check(GONGKAID, 'set GONGKAID (or pass the gongkaid binary as the first argument)');
  check(existsSync(GONGKAID), `gongkaid not found at ${GONGKAID}`);
  check(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const shot = (name) => path.join(ARTIFACT_DIR, `requests-${name}`);

  const daemon = new Daemon(GONGKAID);
  let browser = null;
  let page = null;
  try {
    await daemon.start();
    ok(`gongkaid is up at ${daemon.base}`);

    for (const p of ['/apply', '/track', '/requests']) {
      const r = await fetch(`${daemon.base}${p}`);
      check(r.status === 200 && (r.headers.get('content-type') || '').startsWith('text/html'), `GET ${p}: ${r.status} ${r.headers.get('content-type')}`);
      const csp = r.headers.get('content-security-policy') || '';
      check(csp.includes("script-src 'self'") && csp.includes("style-src 'self'"), `GET ${p} is served with the strict CSP: ${csp}`);
      check((await r.text()).includes('lang="zh-CN"'), `GET ${p} is the Simplified-script page`);
    }
    ok('/apply, /track and /requests are served as HTML with the strict CSP');

    browser = await launchChromium(CHROMIUM);
    ok(`launched ${CHROMIUM} ${browser.version()}`);

    // A script error or a CSP violation fails the test. Chromium also logs
    // each answer of 4xx as an error; those are the point of some steps.
    const problems = [];
    const watch = (p) => {
      p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
      });
    };
    const noProblems = (what) => check(problems.length === 0, `${what}: the page reported errors:\n  ${problems.join('\n  ')}`);
    const newPage = async (options) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', ...options });
      const p = await context.newPage();
      watch(p);
      return p;
    };

    // ---- the search page links to the request pages
    page = await newPage();
    await page.goto(`${daemon.base}/`);
    check(await page.locator('.site-header nav a[href="/apply"]').count() === 1, 'the search page header links to /apply');
    check(await page.locator('.site-footer a[href="/track"]').count() === 1, 'the search page footer links to /track');
    check(await page.locator('.site-footer a[href="/requests"]').count() === 1, 'the search page footer links to /requests');
    await page.locator('.site-header nav a[href="/apply"]').click();
    await page.waitForURL(`${daemon.base}/apply`);
    await page.locator('#apply-form').waitFor();
    ok('the search page links to the form, the tracking page and the list; the link opens the form');

    // ---- the form: every control has a label
    const controls = await page.evaluate(() => [...document.querySelectorAll('#apply-form input, #apply-form select, #apply-form textarea')]
      .map((el) => ({ id: el.id, label: el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent })));
    check(controls.every((c) => c.id && c.label), `every control has a <label for>: ${JSON.stringify(controls)}`);
    check(controls.length === Object.keys(FORM_LABELS).length,
      `the form has the ${Object.keys(FORM_LABELS).length} expected controls: ${JSON.stringify(controls)}`);
    for (const [id, text] of Object.entries(FORM_LABELS)) {
      const byLabel = page.getByLabel(text);
      check(await byLabel.count() === 1, `getByLabel("${text}") finds one control, not ${await byLabel.count()}`);
      check(await byLabel.getAttribute('id') === id, `getByLabel("${text}") is #${id}`);
    }
    for (const id of ['applicant-name', 'applicant-contact', 'description']) {
      check(await page.locator(`#${id}`).getAttribute('required') !== null, `#${id} is marked required`);
    }
    await page.screenshot({ path: shot('01-form-desktop.png'), fullPage: true });
    ok(`all ${controls.length} controls of the form have accessible labels (getByLabel)`);

    // ---- the form, keyboard only: Tab, type, arrow keys, Enter
    await tabTo(page, 'applicant-type');
    await page.keyboard.press('ArrowDown');  // a closed <select> steps to the next option
    check(await page.inputValue('#applicant-type') === 'business', 'ArrowDown on the type chooses 商业企业');
    await page.keyboard.press('ArrowUp');
    check(await page.inputValue('#applicant-type') === 'person', 'ArrowUp goes back to 自然人');
    await tabNext(page, 'applicant-name');
    await page.keyboard.type(APPLICANT.name);
    await tabNext(page, 'applicant-id');
    await page.keyboard.type(APPLICANT.id_number);
    await tabNext(page, 'applicant-contact');
    await page.keyboard.type(APPLICANT.contact);
    await tabNext(page, 'applicant-address');
    await page.keyboard.type(APPLICANT.address);
    await tabNext(page, 'description');
    await page.keyboard.type(DESCRIPTION);
    await tabNext(page, 'delivery-email');
    await page.keyboard.press('ArrowRight');
    check(await activeId(page) === 'delivery-post' && await page.isChecked('#delivery-post'), 'ArrowRight chooses 邮寄');
    await tabNext(page, 'submit');
    await page.keyboard.press('Enter');
    await page.locator('#done').waitFor({ state: 'visible', timeout: 30_000 });
    check(await page.locator('#apply-form').isHidden(), 'the form gives way to the confirmation');
    check(await activeId(page) === 'done-heading', 'focus moves to the confirmation heading');
    const code = (await page.locator('#done-code').textContent()).trim();
    check(CODE_RE.test(code), `the confirmation shows a tracking code: "${code}"`);
    const received = (await page.locator('#done-received').textContent()).trim();
    const due = (await page.locator('#done-due').textContent()).trim();
    check(received === localDate(0), `the confirmation shows today as the date received: "${received}"`);
    check(DATE_RE.test(due) && due.slice(0, 10) > received, `the confirmation shows the due date: "${due}"`);
    const doneText = await page.locator('#done').textContent();
    check(doneText.includes('查询码') && doneText.includes('答复期限') && doneText.includes('妥善保存'),
      `the confirmation names the code and the due date and says to keep the code: ${doneText}`);
    const stored = await daemon.api('GET', `/api/v1/requests/${code}`, daemon.inspector, undefined, 200);
    check(stored.applicant.name === APPLICANT.name && stored.applicant.type === 'person' && stored.applicant.id_number === APPLICANT.id_number &&
      stored.applicant.contact === APPLICANT.contact && stored.applicant.address === APPLICANT.address &&
      stored.description === DESCRIPTION && stored.delivery === '邮寄' && stored.channel === 'online' && stored.due === due.slice(0, 10),
    `the request is stored as typed: ${JSON.stringify(stored)}`);
    check(stored.provisional === due.includes('暂定'), `"暂定" is shown exactly when the due date is provisional (${stored.provisional}): ${due}`);
    await page.screenshot({ path: shot('02-confirmation-desktop.png'), fullPage: true });
    noProblems('the form');
    ok(`the form, filled and sent with the keyboard only, confirms code ${code}, received ${received}, due ${due}`);

    // ---- tracking, as an anonymous visitor in a fresh browser
    const trackHref = await page.locator('#done-track').getAttribute('href');
    check(trackHref === `/track?code=${code}`, `the confirmation links to the tracking page: ${trackHref}`);
    const anon = await newPage();
    await anon.goto(`${daemon.base}/track`);
    await tabTo(anon, 'code');
    await anon.keyboard.type(` ${code.toUpperCase()} `);  // as copied by hand: capitals, spaces
    await anon.keyboard.press('Enter');
    await anon.locator('#track-result').waitFor({ state: 'visible', timeout: 30_000 });
    check(new URL(anon.url()).searchParams.get('code') === code, `the code is kept in the URL: ${anon.url()}`);
    check(await activeId(anon) === 'result-heading', 'focus moves to the result');
    const result = await anon.locator('#track-result').textContent();
    check(result.includes('办理中'), `the tracking page shows 办理中: ${result}`);
    check(result.includes(received) && result.includes(due.slice(0, 10)), `the tracking page shows received and due dates: ${result}`);
    check(result.includes('收到申请') && result.includes('网上申请'), `the tracking page lists the event and channel: ${result}`);
    check(!result.includes('已逾期'), 'a new request is not overdue');
    const everything = await anon.evaluate(() => document.documentElement.outerHTML + document.body.innerText);
    for (const [what, value] of [...Object.entries(APPLICANT), ['description', DESCRIPTION]]) {
      check(!everything.includes(value), `the anonymous tracking page shows no ${what}`);
    }
    await anon.screenshot({ path: shot('03-tracking-desktop.png'), fullPage: true });
    await anon.goto(`${daemon.base}/track?code=${code}`);
    await anon.locator('#track-result').waitFor({ state: 'visible', timeout: 30_000 });
    check(await anon.inputValue('#code') === code, 'arriving with ?code= fills in the code');
    check((await anon.locator('#track-result').textContent()).includes('办理中'), 'arriving with ?code= shows the request');
    noProblems('tracking');
    ok('the tracking page finds the code (typed, or from ?code=) and shows 办理中 and the dates, and no personal data');

    // ---- unknown codes
    for (const unknown of ['aaaaaaaaaaaaaaaaaaaaaaaa', 'no-such-code']) {
      await anon.fill('#code', unknown);
      await anon.press('#code', 'Enter');
      await anon.getByRole('alert').filter({ hasText: '未找到' }).waitFor({ timeout: 30_000 });
      check(await anon.locator('#track-result').isHidden(), `no result is shown for ${unknown}`);
    }
    await anon.fill('#code', '');
    await anon.press('#code', 'Enter');
    await anon.getByRole('alert').filter({ hasText: '请输入查询码' }).waitFor({ timeout: 10_000 });
    check(await anon.getAttribute('#code', 'aria-invalid') === 'true', 'an empty code marks the field');
    await anon.screenshot({ path: shot('04-not-found-desktop.png'), fullPage: true });
    noProblems('unknown codes');
    ok('an unknown code, well-formed or not, shows 未找到; an empty one asks for the code');
    await anon.context().close();

    // ---- the form's errors: a missing name, then answers of the server
    page = await newPage();
    await page.goto(`${daemon.base}/apply`);
    await page.fill('#applicant-contact', '13800000000');
    await page.fill('#description', '某某文件');
    await page.press('#applicant-contact', 'Enter');
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: '姓名/名称' }).waitFor({ timeout: 10_000 });
    check((await alert.textContent()).includes('请填写姓名/名称'), `the alert names the missing field: ${await alert.textContent()}`);
    check(await page.getAttribute('#applicant-name', 'aria-invalid') === 'true', 'the name field is aria-invalid');
    check(await activeId(page) === 'applicant-name', 'focus moves to the name field');
    check((await page.getAttribute('#applicant-name', 'aria-describedby')).split(' ').includes('form-error'),
      'the name field is described by the alert');
    check(await page.getAttribute('#applicant-contact', 'aria-invalid') === null, 'the filled fields are not marked');
    check(await page.locator('#done').isHidden(), 'nothing was sent');
    await page.screenshot({ path: shot('05-missing-name-desktop.png'), fullPage: true });
    await page.keyboard.type('李四');
    check(await page.getAttribute('#applicant-name', 'aria-invalid') === null, 'typing into the field clears the mark');

    // The server's refusals, answered in place of the real API.
    const refusals = [
      { status: 400, body: { error: { code: 'bad_request', message: 'applicant.contact is required' } }, text: '请填写联系方式', field: 'applicant-contact' },
      { status: 413, body: { error: { code: 'too_large', message: 'body too large' } }, text: '申请内容过长', field: 'description' },
      { status: 429, body: { error: { code: 'rate_limited', message: 'too many requests' } }, text: '提交过于频繁' },
      { status: 0, text: '无法连接到服务器' },
    ];
    for (const r of refusals) {
      await page.route('**/api/v1/requests', (route) => (r.status
        ? route.fulfill({ status: r.status, contentType: 'application/json', body: JSON.stringify(r.body) })
        : route.abort('connectionrefused')));
      await page.locator('#submit').focus();
      await page.keyboard.press('Enter');
      await alert.filter({ hasText: r.text }).waitFor({ timeout: 10_000 });
      if (r.field) {
        check(await page.getAttribute(`#${r.field}`, 'aria-invalid') === 'true', `HTTP ${r.status} marks #${r.field}`);
        check(await activeId(page) === r.field, `HTTP ${r.status} moves focus to #${r.field}`);
      }
      check(await page.inputValue('#applicant-name') === '李四', `HTTP ${r.status} keeps what was typed`);
      await page.unroute('**/api/v1/requests');
    }
    check(await page.locator('#done').isHidden(), 'no confirmation after a refusal');
    noProblems('form errors');
    ok('a missing name, and a 400, 413, 429 or a network failure, are announced in role="alert", the field marked and focused');
    await page.context().close();

    // ---- requests that came by post: one overdue, one answered
    const overdue = await daemon.api('POST', '/api/v1/requests', daemon.admin, {
      applicant: { type: 'business', name: '某某贸易有限公司', contact: '010-12345678' },
      description: '逾期测试：某项目环评批复', delivery: '邮寄', channel: 'post', received: localDate(-60),
    }, 201);
    await daemon.api('GET', `/api/v1/requests/${overdue.code}`, daemon.inspector, undefined, 200)
      .then((r) => check(r.overdue === true, `a request received 60 days ago is overdue: ${JSON.stringify(r)}`));
    const answered = await daemon.api('POST', '/api/v1/requests', daemon.admin, {
      applicant: { type: 'person', name: '王五', contact: '13900000000' }, description: '已办结测试',
      channel: 'in_person', received: localDate(-10),
    }, 201);
    await daemon.api('POST', `/api/v1/requests/${answered.code}/events`, daemon.admin,
      { event: 'extended', date: localDate(-5), days: 10, approved_by: '办公室主任' }, 200);
    await daemon.api('POST', `/api/v1/requests/${answered.code}/events`, daemon.admin,
      { event: 'replied', date: localDate(0), outcome: 'partial' }, 200);
    ok(`registered by post an overdue request ${overdue.code} and an answered one ${answered.code}`);

    // The answered one on the tracking page: outcome and events in Chinese.
    page = await newPage();
    await page.goto(`${daemon.base}/track?code=${answered.code}`);
    await page.locator('#track-result').waitFor({ state: 'visible', timeout: 30_000 });
    const closed = await page.locator('#track-result').textContent();
    for (const want of ['已办结', '部分公开', '当面提交', '收到申请', '延长答复期限（10 个工作日）', '已答复：部分公开', localDate(-5), localDate(0)]) {
      check(closed.includes(want), `the answered request shows "${want}": ${closed}`);
    }
    check(!closed.includes('王五') && !closed.includes('办公室主任'), 'the tracking page shows no name and no approver');
    await page.goto(`${daemon.base}/track?code=${overdue.code}`);
    await page.locator('#track-result').waitFor({ state: 'visible', timeout: 30_000 });
    check((await page.locator('#track-result').textContent()).includes('已逾期'), 'the overdue request is marked 已逾期 on the tracking page');
    noProblems('tracking closed and overdue requests');
    ok('the tracking page shows outcome, extension and reply in Chinese, and 已逾期 for the overdue request');

    // ---- the inspectors' list
    await page.goto(`${daemon.base}/requests`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    check(await page.locator('#list-view').isHidden(), 'without a token the list is not shown');
    await tabTo(page, 'token');
    await page.keyboard.type('gk_not_a_real_token');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: '令牌无效' }).waitFor({ timeout: 30_000 });
    check(await page.getAttribute('#token', 'aria-invalid') === 'true', 'a wrong token marks the field');
    check(await page.evaluate(() => sessionStorage.length) === 0, 'a wrong token is not kept');
    await page.keyboard.type(daemon.inspector);
    await page.keyboard.press('Enter');
    const items = page.locator('#request-list .request-item');
    await items.nth(2).waitFor({ timeout: 30_000 });
    check(await items.count() === 3, `the list shows the 3 requests, not ${await items.count()}`);
    const texts = await items.allTextContents();
    check(texts[0].includes(overdue.code) && texts[0].includes('已逾期') && texts[0].includes('某某贸易有限公司'),
      `the overdue request comes first, marked 已逾期 in words, with the applicant: ${texts[0]}`);
    check(texts[1].includes(code) && texts[1].includes(APPLICANT.name) && texts[1].includes(DESCRIPTION) && !texts[1].includes('已逾期'),
      `the form's request shows its applicant and description, not overdue: ${texts[1]}`);
    check(texts[2].includes(answered.code) && texts[2].includes('已办结') && texts[2].includes('部分公开'), `the closed one comes last: ${texts[2]}`);
    check(await items.first().evaluate((el) => el.classList.contains('overdue')), 'the overdue item is styled as overdue too');
    check((await page.locator('#list-count').textContent()).includes('1 件已逾期'), 'the count says how many are overdue');
    const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('gongkai.inspector-token'), local: localStorage.length, cookie: document.cookie }));
    check(storage.session === daemon.inspector && storage.local === 0 && storage.cookie === '', `the token is in sessionStorage only: ${JSON.stringify(storage)}`);
    check(!page.url().includes(daemon.inspector), 'the token is not in the URL');
    await page.screenshot({ path: shot('06-list-desktop.png'), fullPage: true });

    // Filters, kept in the URL.
    await page.locator('#f-overdue').check();
    await page.waitForURL((u) => new URL(u).searchParams.get('overdue') === 'true', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll('#request-list .request-item').length === 1, null, { timeout: 30_000 });
    check((await items.first().textContent()).includes(overdue.code), 'only overdue: the overdue request');
    await page.locator('#f-overdue').uncheck();
    await page.selectOption('#f-status', 'closed');
    await page.waitForURL((u) => new URL(u).searchParams.get('status') === 'closed' && !new URL(u).searchParams.has('overdue'), { timeout: 10_000 });
    // The overdue-only list has one item too: wait for the closed one to replace it.
    await page.waitForFunction((code) => {
      const shown = document.querySelectorAll('#request-list .request-item');
      return shown.length === 1 && shown[0].textContent.includes(code);
    }, answered.code, { timeout: 30_000 });
    check((await items.first().textContent()).includes(answered.code), 'status 已办结: the answered request');
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#request-list .request-item').length === 1, null, { timeout: 30_000 });
    check(await page.inputValue('#f-status') === 'closed', 'a reload keeps the token (this tab) and the filter (the URL)');
    await page.locator('#logout').click();
    await page.locator('#token-form').waitFor({ state: 'visible' });
    check(await page.evaluate(() => sessionStorage.length) === 0 && await page.locator('#request-list .request-item').count() === 0,
      '退出 forgets the token and the list');
    noProblems('inspector list');
    ok('the inspectors\' list asks for the token, keeps it in sessionStorage only, lists by due date with 已逾期 in words, and filters');
    await page.context().close();

    // ---- a phone
    page = await newPage({ viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    for (const [url, ready, name] of [
      ['/apply', '#apply-form', '07-form-mobile.png'],
      [`/track?code=${answered.code}`, '#track-result', '08-tracking-mobile.png'],
    ]) {
      await page.goto(`${daemon.base}${url}`);
      await page.locator(ready).waitFor({ state: 'visible', timeout: 30_000 });
      await noHorizontalScroll(page, url);
      const small = await smallTouchTargets(page);
      check(small.length === 0, `touch targets under 44 px on ${url}:\n  ${small.join('\n  ')}`);
      await page.screenshot({ path: shot(name), fullPage: true });
    }
    await page.evaluate((t) => sessionStorage.setItem('gongkai.inspector-token', t), daemon.inspector);
    await page.goto(`${daemon.base}/requests`);
    await page.locator('#request-list .request-item').nth(2).waitFor({ timeout: 30_000 });
    await noHorizontalScroll(page, '/requests');
    await page.screenshot({ path: shot('09-list-mobile.png'), fullPage: true });
    noProblems('phone');
    ok('on a 375×667 phone the pages fit without horizontal scrolling, touch targets ≥ 44 px');
  } catch (e) {
    await shootFailure(page, shot('failure.png'));
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await daemon.stop();
    rmSync(daemon.root, { recursive: true, force: true });
  }
}

runMain(main, { artifactDir: ARTIFACT_DIR, timeoutMs: TOTAL_TIMEOUT_MS });

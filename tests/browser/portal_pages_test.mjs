// Browser test of what every page shares, against the real gongkaid through
// Debian's chromium with playwright-core: each page (/, /guide, /catalogue,
// /apply, /track, /requests, /report) is in Simplified Chinese by default, carries
// the one navigation bar with aria-current, switches to Traditional
// characters with the 繁體 button (and stays so on the next page), is
// readable with JavaScript off, prints without navigation or forms, and has
// no axe-core violation of impact "serious" or "critical". Also the guide
// (/guide, GET /api/v1/guide) from [disclosure], and the annual report page.
//
//   GONGKAID=/path/to/gongkaid node portal_pages_test.mjs   (or the path as argv[2])
//
// Environment: ARTIFACT_DIR (screenshots and the daemon's log; default
// <repo>/build/test-artifacts), CHROMIUM (default /usr/bin/chromium).
// Exits non-zero, with the reason, on any failure.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Program, check, launchChromium, ok, runMain, sha256, sleep, shootFailure } from './harness.mjs';
import { axeViolations } from './axe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.resolve(here, '..', '..');
const GONGKAID = process.argv[2] || process.env.GONGKAID;
const ARTIFACT_DIR = path.resolve(process.env.ARTIFACT_DIR || path.join(SOURCE, 'build', 'test-artifacts'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 8 * 60 * 1000;

// The agency's name holds markup, which must show as text; it is config, not
// UI, so the 繁體 switch leaves it as written.
const AGENCY = '某某乡人民政府<b>测试</b>';
const CONTACTS = {
  address: '某某省某某县某某乡人民路1号', postcode: '350000', phone: '0591-12345678',
  email: 'gongkai@example.gov.cn', office_hours: '工作日 8:30–12:00，14:30–17:30', website: 'https://example.gov.cn/',
};

const CATALOGUE_TITLE = '关于开展春季植树活动的通知';

// Each page: its route, the navigation entry marked as the current page (or
// as its section, aria-current="true"), and Simplified text it shows by
// default, with the same text in Traditional characters.
const PAGES = [
  { route: '/', current: '/', simplified: '文件检索', traditional: '文件檢索' },
  { route: '/guide', current: '/guide', simplified: '依申请公开', traditional: '依申請公開' },
  { route: '/catalogue', current: '/catalogue', simplified: '发布年份', traditional: '發佈年份' },
  { route: '/apply', current: '/apply', simplified: '申请政府信息公开', traditional: '申請政府信息公開' },
  { route: '/track', current: '/apply', section: true, simplified: '查询办理进度', traditional: '查詢辦理進度' },
  { route: '/requests', current: '/apply', section: true, simplified: '申请办理清单', traditional: '申請辦理清單' },
  { route: '/report', current: '/report', simplified: '关于年度报告', traditional: '關於年度報告' },
];
const NAV = ['/', '/guide', '/catalogue', '/apply', '/report'];
// Taiwanese wording and Traditional characters the default pages must not use.
const NOT_SIMPLIFIED = /搜尋|資訊|網頁|筆|檢索|公開|申請|辦理|查詢|進度|報告/;

// ------------------------------------------------------------------ daemon

class Daemon extends Program {
  constructor(bin) {
    super(bin);
    this.root = mkdtempSync(path.join(tmpdir(), 'gongkai-portal-'));
    const share = path.join(this.root, 'share', 'pub');
    mkdirSync(share, { recursive: true });
    // One public document with catalogue metadata: the catalogue's one entry.
    writeFileSync(path.join(share, 'notice.txt'), '关于开展春季植树活动的通知\n');
    writeFileSync(path.join(share, 'notice.txt.meta.json'), JSON.stringify({
      title: CATALOGUE_TITLE, doc_number: '某政〔2026〕5号', category: '法定主动公开内容/通知公告',
      created: '2026-03-02', summary: '植树活动的时间和地点',
    }));
    this.inspector = `gk_${randomBytes(24).toString('hex')}`;
    const tokens = path.join(this.root, 'tokens');
    writeFileSync(tokens, `inspector ${sha256(this.inspector)} browser-inspector\n`, { mode: 0o600 });
    this.config = path.join(this.root, 'gongkaid.conf');
    writeFileSync(this.config, [
      '[daemon]', `data_dir = ${path.join(this.root, 'data')}`, 'listen = 127.0.0.1:0', 'settle = 300ms', '',
      '[log]', 'origin = portal.gongkai.test', '',
      '[auth]', `tokens_file = ${tokens}`, '',
      '[disclosure]', `agency = ${AGENCY}`, 'agency_code = 113506027XXXXXXXXX',
      `calendar = ${path.join(SOURCE, 'data', 'calendar')}`,
      ...Object.entries(CONTACTS).map(([k, v]) => `${k} = ${v}`), '',
      '[share.pub]', `path = ${share}`, 'office = 某某乡人民政府', '',
    ].join('\n'));
    this.logPath = path.join(ARTIFACT_DIR, 'daemon-portal.log');
  }
}

// ----------------------------------------------------------------- browser

// The navigation bar as the page has it: [{href, current}].
const navOf = (page) => page.evaluate(() => [...document.querySelectorAll('.site-header nav a')]
  .map((a) => ({ href: a.getAttribute('href'), current: a.getAttribute('aria-current') })));

function checkNav(nav, p) {
  check(JSON.stringify(nav.map((a) => a.href)) === JSON.stringify(NAV), `${p.route}: the navigation bar is ${NAV}: ${JSON.stringify(nav)}`);
  for (const a of nav) {
    const want = a.href === p.current ? (p.section ? 'true' : 'page') : null;
    check(a.current === want, `${p.route}: aria-current on ${a.href} is ${want}, not ${a.current}`);
  }
}

const visibleText = (page) => page.evaluate(() => document.body.innerText);

async function main() {
  check(GONGKAID, 'set GONGKAID (or pass the gongkaid binary as the first argument)');
  check(existsSync(GONGKAID), `gongkaid not found at ${GONGKAID}`);
  check(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const shot = (name) => path.join(ARTIFACT_DIR, `portal-${name}`);

  const daemon = new Daemon(GONGKAID);
  let browser = null;
  let page = null;
  try {
    await daemon.start();
    ok(`gongkaid is up at ${daemon.base}`);
    let catalogue = null;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(200)) {
      catalogue = await (await fetch(`${daemon.base}/api/v1/catalogue`)).json();
      if (catalogue.total === 1) break;
    }
    check(catalogue.total === 1, `the document is archived and listed: ${JSON.stringify(catalogue)}`);
    const indexNo = catalogue.results[0].index_no;
    check(/^113506027XXXXXXXXX\/\d{4}-00001$/.test(indexNo), `its 索引号 is the agency's first: ${indexNo}`);

    // ---- as served: Simplified, one navigation bar, the config escaped
    for (const p of PAGES) {
      const r = await fetch(`${daemon.base}${p.route}`);
      const html = await r.text();
      check(r.status === 200 && (r.headers.get('content-type') || '').startsWith('text/html'), `GET ${p.route}: ${r.status}`);
      check(html.includes('<html lang="zh-CN">'), `GET ${p.route} is lang="zh-CN"`);
      check(!html.includes('<!--#'), `GET ${p.route} has every marker filled`);
      check((html.match(/<nav class="site-nav"/g) || []).length === 1, `GET ${p.route} has one navigation bar`);
      check(html.includes('某某乡人民政府&lt;b&gt;测试&lt;/b&gt;') && !html.includes(AGENCY), `GET ${p.route} shows the agency escaped`);
    }
    check(!(await (await fetch(`${daemon.base}/static/guide.html`)).text()).includes('<!--#'), 'the guide\'s template is never served unfilled');
    ok('every page is served in Simplified Chinese with one navigation bar and the agency escaped');

    const guide = await (await fetch(`${daemon.base}/api/v1/guide`)).json();
    check(guide.agency === AGENCY && guide.agency_code === '113506027XXXXXXXXX', `the guide API names the agency: ${JSON.stringify(guide)}`);
    for (const [k, v] of Object.entries(CONTACTS)) check(guide[k] === v, `the guide API answers ${k} = ${v}: ${guide[k]}`);
    check(guide.fax === '', 'a contact not configured is ""');
    check(JSON.stringify(guide.channels) === JSON.stringify(['online', 'in_person', 'post', 'registered_post', 'fax', 'email']), 'the guide API lists the channels');
    check(guide.deadline.workdays === 20 && guide.deadline.extension_workdays === 20, 'the guide API gives the deadline');
    ok('GET /api/v1/guide answers the configured facts');

    browser = await launchChromium(CHROMIUM);
    ok(`launched ${CHROMIUM} ${browser.version()}`);

    const problems = [];
    const newContext = (options) => browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', ...options });
    const watch = (p) => {
      p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
      });
      return p;
    };
    const noProblems = (what) => check(problems.length === 0, `${what}: the page reported errors:\n  ${problems.join('\n  ')}`);

    // ---- each page: Simplified by default, the navigation bar, axe
    const context = await newContext();
    page = watch(await context.newPage());
    for (const p of PAGES) {
      await page.goto(`${daemon.base}${p.route}`);
      await page.locator('#lang-switch').waitFor({ state: 'visible' });
      await sleep(300);  // the page's own script fills in what it fills in
      check(await page.evaluate(() => document.documentElement.lang) === 'zh-CN', `${p.route}: lang is zh-CN`);
      const text = await visibleText(page);
      check(text.includes(p.simplified), `${p.route} shows "${p.simplified}"`);
      const chrome = text.replace(/某某乡人民政府<b>测试<\/b>/g, '');
      const stray = NOT_SIMPLIFIED.exec(chrome);
      check(!stray, `${p.route} has no Traditional or Taiwanese wording by default, found "${stray}"`);
      checkNav(await navOf(page), p);
      const violations = await axeViolations(page);
      check(violations.length === 0, `${p.route}: axe-core finds:\n  ${violations.join('\n  ')}`);
      await page.screenshot({ path: shot(`${p.route.slice(1) || 'search'}-simplified.png`), fullPage: true });
    }
    noProblems('the pages in Simplified Chinese');
    ok('each page is Simplified by default, marks its place in the navigation bar, and passes axe-core');

    // ---- the guide: the contacts, the channels, the deadline
    await page.goto(`${daemon.base}/guide`);
    const guideText = await visibleText(page);
    for (const want of [AGENCY, ...Object.values(CONTACTS), '在线申请', '信函申请', '当面申请', '传真申请', '电子邮件申请',
      '20个工作日', '条例第三十三条', '行政复议', '行政诉讼', '不收取费用']) {
      check(guideText.includes(want), `the guide says "${want}"`);
    }
    for (const href of ['/apply', '/track', '/catalogue', CONTACTS.website]) {
      check(await page.locator(`main a[href="${href}"]`).count() >= 1, `the guide links to ${href}`);
    }
    ok('the guide names the agency and its contacts, the channels, the deadline, fees and remedies');

    // ---- the catalogue: the entry with its 索引号, by category, its file one click away
    await page.goto(`${daemon.base}/catalogue`);
    const row = page.locator('table.catalogue-table tbody tr');
    check(await row.count() === 1, 'the catalogue lists one entry');
    const rowText = await row.textContent();
    for (const want of [indexNo, CATALOGUE_TITLE, '某政〔2026〕5号', '2026-03-02', '植树活动的时间和地点']) {
      check(rowText.includes(want), `the catalogue's entry shows "${want}": ${rowText}`);
    }
    await page.locator('.category-list a', { hasText: '法定主动公开内容/通知公告' }).click();
    await page.waitForURL(/category=/);
    check(await page.locator('.category-list a[aria-current="page"]').textContent() === '法定主动公开内容/通知公告',
      'the category chosen is marked');
    check(await row.count() === 1, 'the category lists its entry');
    const href = await row.locator('a').getAttribute('href');
    const content = await fetch(`${daemon.base}${href}`);
    check(content.status === 200 && (await content.text()).includes('春季植树'), `the title links to the archived file: ${href}`);
    await page.goto(`${daemon.base}/catalogue?year=2001`);
    check((await visibleText(page)).includes('暂无符合条件的公开信息'), 'an empty year says so');
    ok('the catalogue lists the document with its 索引号, by category, linked to its file');

    // ---- 繁體: the chrome switches, documents and the agency do not, the choice persists
    await page.goto(`${daemon.base}/guide`);
    await page.locator('#lang-switch').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-Hant');
    let text = await visibleText(page);
    check(text.includes('政府信息公開指南') && text.includes('依申請公開'), 'the guide switches to Traditional characters');
    check(text.includes(AGENCY), 'the agency is shown as written');
    check((await page.locator('#lang-switch').textContent()) === '简体', 'the switch now offers 简体');
    await page.screenshot({ path: shot('guide-traditional.png'), fullPage: true });
    for (const p of PAGES) {
      await page.goto(`${daemon.base}${p.route}`);
      await page.waitForFunction(() => document.documentElement.lang === 'zh-Hant');
      await sleep(300);
      text = await visibleText(page);
      check(text.includes(p.traditional), `${p.route} stays Traditional on the next page: wants "${p.traditional}"`);
      check(!text.includes(p.simplified), `${p.route}: no "${p.simplified}" left in Traditional`);
      const violations = await axeViolations(page);
      check(violations.length === 0, `${p.route} in Traditional: axe-core finds:\n  ${violations.join('\n  ')}`);
      await page.screenshot({ path: shot(`${p.route.slice(1) || 'search'}-traditional.png`), fullPage: true });
    }
    // Text a script writes later switches too: a tracking code that does not exist.
    await page.goto(`${daemon.base}/track?code=aaaaaaaaaaaaaaaaaaaaaaaa`);
    await page.locator('#track-message .alert').waitFor({ timeout: 30_000 });
    const message = await page.locator('#track-message').textContent();
    check(/[請査查詢碼]/.test(message) && !/[请码询]/.test(message), `the tracking page's message is in Traditional: ${message}`);
    // And back: the page is Simplified again, and so is the next one.
    await page.locator('#lang-switch').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    check((await visibleText(page)).includes('查询办理进度'), 'switching back restores Simplified');
    await page.goto(`${daemon.base}/apply`);
    check((await visibleText(page)).includes('申请政府信息公开'), 'Simplified is remembered too');
    noProblems('the pages in Traditional');
    ok('繁體 switches every page, script-written text included, leaves the agency as written, and is remembered');
    await context.close();

    // ---- without JavaScript: readable, in Simplified, no dead switch
    const noJs = await newContext({ javaScriptEnabled: false });
    page = await noJs.newPage();
    for (const p of PAGES) {
      await page.goto(`${daemon.base}${p.route}`);
      text = await visibleText(page);
      check(text.includes(p.simplified), `${p.route} without JavaScript shows "${p.simplified}"`);
      check(await page.locator('.site-header nav a').count() === NAV.length, `${p.route} without JavaScript has the navigation bar`);
      check(await page.locator('#lang-switch').isHidden(), `${p.route} without JavaScript hides the switch`);
      await page.screenshot({ path: shot(`${p.route.slice(1) || 'search'}-no-javascript.png`), fullPage: true });
    }
    check((await visibleText(page)).includes('年度报告'), '/report without JavaScript explains the report');
    // A search without JavaScript: the form submits, the server lists the results.
    let found = false;
    for (const deadline = Date.now() + 60_000; !found && Date.now() < deadline; await sleep(500)) {
      await page.goto(`${daemon.base}/?q=${encodeURIComponent('植树')}`);
      found = await page.locator('ol.results li a', { hasText: CATALOGUE_TITLE }).count() === 1;
    }
    check(found, 'a search without JavaScript lists the document');
    await page.screenshot({ path: shot('search-results-no-javascript.png'), fullPage: true });
    await page.goto(`${daemon.base}/guide`);
    text = await visibleText(page);
    check(text.includes('20个工作日') && text.includes(CONTACTS.address), 'the guide is complete without JavaScript');
    await noJs.close();
    ok('every page is readable without JavaScript, in Simplified, with the navigation bar');

    // ---- printed: no navigation, forms or backgrounds
    const printing = await newContext();
    page = watch(await printing.newPage());
    await page.emulateMedia({ media: 'print' });
    for (const p of PAGES) {
      await page.goto(`${daemon.base}${p.route}`);
      const shown = await page.evaluate(() => ({
        nav: getComputedStyle(document.querySelector('.site-header')).display,
        forms: [...document.querySelectorAll('form')].map((f) => getComputedStyle(f).display),
        band: getComputedStyle(document.querySelector('.page-band, .search-band') || document.body).backgroundImage,
      }));
      check(shown.nav === 'none' && shown.forms.every((d) => d === 'none'), `${p.route} prints without navigation and forms: ${JSON.stringify(shown)}`);
      check(shown.band === 'none', `${p.route} prints without background: ${JSON.stringify(shown)}`);
    }
    await page.goto(`${daemon.base}/guide`);
    await page.screenshot({ path: shot('guide-print.png'), fullPage: true });
    await printing.close();
    ok('every page prints without navigation, forms or backgrounds');

    // ---- the annual report: an explanation for everyone, the table for inspectors
    const reporting = await newContext({ acceptDownloads: true });
    page = watch(await reporting.newPage());
    await page.goto(`${daemon.base}/report`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    check(await page.locator('#report-view').isHidden(), 'without a token the report is not shown');
    await page.fill('#token', daemon.inspector);
    await page.locator('#token-form button[type=submit]').click();
    await page.locator('#report-output table.annual >> nth=0').waitFor({ timeout: 30_000 });
    const year = new Date().getFullYear() - 1;
    check((await page.locator('#report-output').textContent()).includes(`${year}年政府信息公开工作年度报告`), 'the report for last year is shown');
    check(await page.locator('h1').count() === 1, 'the page keeps one <h1>');
    await page.fill('#year', String(year + 1));
    await page.locator('#year-form button[type=submit]').click();
    await page.waitForFunction((y) => document.querySelector('#report-output')?.textContent.includes(`${y}年`), year + 1);
    check(new URL(page.url()).searchParams.get('year') === String(year + 1), 'the year is kept in the URL');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-csv').click()]);
    check(download.suggestedFilename() === `annual-report-${year + 1}.csv`, `the CSV is offered as ${download.suggestedFilename()}`);
    const csv = readFileSync(await download.path(), 'utf8');
    check(csv.startsWith('\ufeff项目,') && csv.includes('总计'), `the CSV has its header: ${csv.slice(0, 80)}`);
    const violations = await axeViolations(page);
    check(violations.length === 0, `/report with the table: axe-core finds:\n  ${violations.join('\n  ')}`);
    await page.screenshot({ path: shot('report-inspector.png'), fullPage: true });
    noProblems('the annual report');
    await reporting.close();
    ok('an inspector sees the annual report for a chosen year and downloads its CSV');
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

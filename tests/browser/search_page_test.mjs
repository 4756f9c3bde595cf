// Browser test of the public search page: the real gongkaid on a scratch
// share, driven through Debian's chromium with playwright-core.
//
//   GONGKAID=/path/to/gongkaid node search_page_test.mjs   (or the path as argv[2])
//
// Environment: ARTIFACT_DIR (screenshots and the daemon's log; default
// <repo>/build/test-artifacts), CHROMIUM (default /usr/bin/chromium).
// Exits non-zero, with the reason, on any failure.
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Program, TestFailure, check, launchChromium, ok, runMain, sha256, sleep, shootFailure } from './harness.mjs';
import { axeViolations } from './axe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const GONGKAID = process.argv[2] || process.env.GONGKAID;
const ARTIFACT_DIR = path.resolve(process.env.ARTIFACT_DIR || path.join(here, '..', '..', 'build', 'test-artifacts'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 8 * 60 * 1000;

// The two documents: one in Traditional script, found with a Simplified query,
// and one in Simplified script. The text document holds markup-like text that
// the page must show as text.
const TXT_NAME = '臺北市環境保護局空氣品質公告.txt';
const TXT_V1 = '臺北市環境保護局公告：本市空氣品質監測站第一季資料。\n';
const TXT_V2 = '臺北市環境保護局公告：本市空氣品質監測結果，細懸浮微粒濃度 < 15 且 <b>不是標記</b> & 持續改善。\n' +
  '民眾可至各區監測站查詢即時資料。\n';
const HTML_NAME = '关于做好政务公开工作的通知.html';
const HTML_DOC = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>关于做好政务公开工作的通知</title></head>' +
  '<body><h1>关于做好政务公开工作的通知</h1><p>各区县人民政府：为进一步推进政务公开，现将有关事项通知如下。' +
  '加强环境保护信息公开，及时发布空气质量数据。</p></body></html>\n';
const HTML_META = JSON.stringify({
  title: '关于做好2025年政务公开工作的通知', doc_number: '府办发〔2025〕12号', category: '通知', published: '2025-03-01',
  keywords: ['政务公开', '环境保护'],
});
const QUERY = '环境保护局';          // Simplified; the .txt says 環境保護局
const MATCH_TRADITIONAL = '環境保護局';

// ------------------------------------------------------------------ daemon

class Daemon extends Program {
  constructor(bin) {
    super(bin);
    this.root = mkdtempSync(path.join(tmpdir(), 'gongkai-browser-'));
    this.share = path.join(this.root, 'share', 'pub');
    mkdirSync(this.share, { recursive: true });
    this.config = path.join(this.root, 'gongkaid.conf');
    writeFileSync(this.config, [
      '[daemon]', `data_dir = ${path.join(this.root, 'data')}`, 'listen = 127.0.0.1:0', 'settle = 300ms',
      'anonymous_search_rate = 0', '',
      '[log]', 'origin = browser.gongkai.test', '',
      '[share.pub]', `path = ${this.share}`, 'office = 臺北市政府環境保護局', '',
    ].join('\n'));
    this.logPath = path.join(ARTIFACT_DIR, 'daemon.log');
  }

  async search(q) {
    const r = await fetch(`${this.base}/api/v1/search?q=${encodeURIComponent(q)}&limit=100`);
    if (r.status !== 200) throw new TestFailure(`search ${q}: HTTP ${r.status}`);
    return r.json();
  }

  // Polls the search API until pred(results) holds.
  async waitForSearch(q, pred, what) {
    const deadline = Date.now() + 120_000;
    let last = null;
    while (Date.now() < deadline) {
      last = await this.search(q);
      if (pred(last.results)) return last.results;
      await sleep(200);
    }
    throw new TestFailure(`${what}: not found by searching ${q} within 120 s; last answer ${JSON.stringify(last)}\n${this.logText}`);
  }
}

// ----------------------------------------------------------------- browser

async function noHorizontalScroll(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}

// Interactive elements that a person can see and touch, smaller than 44 px.
async function smallTouchTargets(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('a[href], button, input, select, summary, [tabindex]:not([tabindex="-1"])')) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      if (r.bottom < 0 || r.right < 0 || r.left > window.innerWidth) continue;  // skip link, off-screen
      if (el.matches('pre')) continue;  // scrollable code blocks are focusable, not touch targets
      if (r.height < 44 || r.width < 44) {
        out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className} "${(el.textContent || '').trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
      }
    }
    return out;
  });
}

async function main() {
  check(GONGKAID, 'set GONGKAID (or pass the gongkaid binary as the first argument)');
  check(existsSync(GONGKAID), `gongkaid not found at ${GONGKAID}`);
  check(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const shot = (name) => path.join(ARTIFACT_DIR, name);

  const daemon = new Daemon(GONGKAID);
  let browser = null;
  let page = null;
  try {
    await daemon.start();
    ok(`gongkaid is up at ${daemon.base}`);

    // Documents: the .txt in two versions, the .html in one.
    writeFileSync(path.join(daemon.share, TXT_NAME), TXT_V1);
    writeFileSync(path.join(daemon.share, `${HTML_NAME}.meta.json`), HTML_META);  // the sidecar first
    writeFileSync(path.join(daemon.share, HTML_NAME), HTML_DOC);
    await daemon.waitForSearch(QUERY, (rs) => rs.some((r) => r.path === TXT_NAME), 'first version of the text document');
    writeFileSync(path.join(daemon.share, TXT_NAME), TXT_V2);
    const found = await daemon.waitForSearch(QUERY, (rs) => rs.some((r) => r.path === TXT_NAME && r.version === 2),
      'second version of the text document');
    await daemon.waitForSearch('政务公开', (rs) => rs.some((r) => r.path === HTML_NAME), 'the html document');
    const txt = found.find((r) => r.path === TXT_NAME);
    ok(`both documents are archived and indexed (text document ${txt.id}, version ${txt.version})`);

    browser = await launchChromium(CHROMIUM);
    ok(`launched ${CHROMIUM} ${browser.version()}`);

    // Anything the page logs as an error (a CSP violation, an exception) fails the test.
    const problems = [];
    const watch = (p) => {
      p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    };
    const noProblems = (what) => {
      check(problems.length === 0, `${what}: the page reported errors:\n  ${problems.join('\n  ')}`);
    };

    // ---- desktop
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'zh-TW' });
    page = await desktop.newPage();
    watch(page);
    const home = await page.goto(`${daemon.base}/`);
    check(home.status() === 200, `GET / answered ${home.status()}`);
    check((home.headers()['content-security-policy'] || '').includes("script-src 'self'"), 'the page is served with its CSP');
    await page.locator('#results .result').nth(1).waitFor({ timeout: 30_000 });
    check(await page.locator('#results .result').count() === 2, 'the front page lists both documents');
    check((await page.locator('#results-heading').textContent()).includes('最新'), 'the front page is headed as the newest documents');
    const listed = await page.locator('#results .snippet').allTextContents();
    check(listed.some((t) => t.includes('<b>不是標記</b>')), `the listing shows the document's "<b>" text as text: ${JSON.stringify(listed)}`);
    check(await page.locator('#results .snippet mark').count() === 0, 'an empty query highlights nothing');
    await page.screenshot({ path: shot('01-home-desktop.png'), fullPage: true });
    noProblems('front page');
    ok('the front page lists the newest documents');

    // Search in Simplified script for the Traditional document.
    await page.fill('#q', QUERY);
    await page.press('#q', 'Enter');
    await page.waitForURL((u) => new URL(u).searchParams.get('q') === QUERY, { timeout: 10_000 });
    await page.locator('#results .result mark').first().waitFor({ timeout: 30_000 });
    const results = page.locator('#results .result');
    check(await results.count() >= 1, 'the search has results');
    const first = results.first();
    const title = (await first.locator('.result-title a').textContent()).trim();
    check(title.includes('環境保護局'), `the first result is the Traditional-script document (title "${title}")`);
    const marks = await first.locator('.snippet mark').allTextContents();
    check(marks.some((m) => m.includes(MATCH_TRADITIONAL) || MATCH_TRADITIONAL.includes(m)),
      `the snippet highlights the Traditional match (marks: ${JSON.stringify(marks)})`);
    const snippet = await first.locator('.snippet').textContent();
    check(!snippet.includes('&lt;') && !snippet.includes('&amp;'), `the snippet shows decoded text, not entities: ${snippet}`);
    check(snippet.includes('<b>不是標記</b>') || !snippet.includes('不是標記'), `the document's own "<b>" text is shown as text: ${snippet}`);
    check(await first.locator('.snippet *:not(mark)').count() === 0, 'the snippet holds no elements but <mark>');
    const metaText = await first.locator('.result-meta').textContent();
    check(metaText.includes('臺北市政府環境保護局') && metaText.includes('纯文本'), `the result shows office and type: ${metaText}`);
    check((await first.locator('.result-path').textContent()).includes(TXT_NAME), 'the result shows its path');
    check(/\d{4}-\d{2}-\d{2}/.test(metaText), `the result shows its date: ${metaText}`);
    const typeOptions = await page.locator('#f-type option').allTextContents();
    check(typeOptions.some((t) => t.startsWith('纯文本')), `the type filter offers the result's type: ${JSON.stringify(typeOptions)}`);
    await page.screenshot({ path: shot('02-results-desktop.png'), fullPage: true });
    noProblems('search');
    ok(`searching "${QUERY}" (Simplified) finds "${title}" with the match highlighted`);

    // Suggestions while typing: a Traditional prefix offers the Simplified
    // title; a 文号 typed with "(" offers it as written, with 〔〕; Down and
    // Enter search for it; Escape closes the list.
    await page.goto(`${daemon.base}/`);
    await page.locator('#results .result').first().waitFor({ timeout: 30_000 });
    await page.locator('#q').pressSequentially('關於做好', { delay: 40 });
    const titleOption = page.locator('#q-suggestions [role="option"]', { hasText: '关于做好2025年政务公开工作的通知' });
    await titleOption.waitFor({ timeout: 10_000 });
    check(await page.getAttribute('#q', 'role') === 'combobox' && await page.getAttribute('#q', 'aria-expanded') === 'true',
      'the search box is an expanded combobox while it offers suggestions');
    check(await page.locator('#q-suggestions [role="option"]').count() === 1, 'only the title that starts with the prefix is offered');
    await page.screenshot({ path: shot('02b-suggestions-desktop.png') });
    const suggestViolations = await axeViolations(page);
    check(suggestViolations.length === 0, `axe-core finds, with suggestions open:\n  ${suggestViolations.join('\n  ')}`);
    await page.keyboard.press('ArrowDown');
    check(await page.getAttribute('#q', 'aria-activedescendant') === await titleOption.getAttribute('id') &&
      await titleOption.getAttribute('aria-selected') === 'true', 'Down marks the suggestion (aria-activedescendant)');
    check(await page.evaluate(() => document.activeElement.id) === 'q', 'focus stays in the search box');
    await page.keyboard.press('Escape');
    check(await page.locator('#q-suggestions').isHidden() && await page.getAttribute('#q', 'aria-expanded') === 'false',
      'Escape closes the suggestions');
    check(await page.inputValue('#q') === '關於做好', 'Escape keeps what was typed');
    await page.fill('#q', '');
    await page.locator('#q').pressSequentially('府办发(2025', { delay: 40 });
    const numberOption = page.locator('#q-suggestions [role="option"]', { hasText: '府办发〔2025〕12号' });
    await numberOption.waitFor({ timeout: 10_000 });
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => new URL(u).searchParams.get('q') === '府办发〔2025〕12号', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#results .result-title a')?.textContent.includes('2025年政务公开'),
      null, { timeout: 30_000 });
    check(await page.locator('#q-suggestions').isHidden(), 'the list closes when a suggestion is chosen');
    noProblems('suggestions');
    ok('typing offers public titles and 文号 in either script and bracket style; the keyboard chooses one and searches for it');

    // A filter narrows the search and lands in the URL.
    await page.fill('#q', '');
    await page.press('#q', 'Enter');
    await page.locator('#results .result').nth(1).waitFor({ timeout: 30_000 });
    await page.selectOption('#f-type', 'html');
    await page.waitForURL((u) => new URL(u).searchParams.get('type') === 'html', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll('#results .result').length === 1, null, { timeout: 30_000 });
    check((await page.locator('#results .result-title a').textContent()).includes('政务公开'), 'the type filter keeps only the html document');
    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('#results .result').length === 2, null, { timeout: 30_000 });
    check(await page.inputValue('#f-type') === '', 'going back clears the filter again');
    ok('the type filter narrows the results, is kept in the URL, and the back button undoes it');

    // Paging: one result a page.
    await page.goto(`${daemon.base}/?limit=1`);
    await page.locator('#pager .page-of').waitFor({ timeout: 30_000 });
    check((await page.locator('#pager .page-of').textContent()).includes('第 1 / 2 页'), 'the pager shows page 1 of 2');
    const page1 = await page.locator('#results .result-title a').textContent();
    await page.locator('#pager a[rel="next"]').click();
    await page.waitForURL((u) => new URL(u).searchParams.get('offset') === '1', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#pager .page-of')?.textContent.includes('第 2 / 2 页'), null, { timeout: 30_000 });
    const page2 = await page.locator('#results .result-title a').textContent();
    check(page1 !== page2, `the second page shows the other document (${page1} / ${page2})`);
    check(await page.locator('#pager [rel="next"]').count() === 0 && await page.locator('#pager a[rel="prev"]').count() === 1,
      'on the last page only "previous" is a link');
    ok('paging with offset/limit walks through the results');

    // The html document's sidecar metadata, opened by its URL.
    const html = (await daemon.search('政务公开')).results.find((r) => r.path === HTML_NAME);
    await page.goto(`${daemon.base}/#doc=${encodeURIComponent(html.id)}`);
    await page.locator('#versions .version').first().waitFor({ timeout: 30_000 });
    const htmlMeta = await page.locator('#doc-meta').textContent();
    check(htmlMeta.includes('府办发〔2025〕12号') && htmlMeta.includes('2025-03-01'), `the document shows its sidecar metadata: ${htmlMeta}`);
    check((await page.locator('#doc-title').textContent()).includes('2025年政务公开'), 'the sidecar title is the title');
    await page.screenshot({ path: shot('03-document-metadata-desktop.png'), fullPage: true });
    ok('a document opened by its #doc= URL shows its sidecar metadata');

    // Open the document from the results, with the keyboard.
    await page.goto(`${daemon.base}/?q=${encodeURIComponent(QUERY)}`);
    const link = page.locator('#results .result-title a').first();
    await link.waitFor({ timeout: 30_000 });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.locator('#doc-title').waitFor({ state: 'visible', timeout: 30_000 });
    check(decodeURIComponent(new URL(page.url()).hash) === `#doc=${txt.id}`, `the URL names the document: ${page.url()}`);
    check((await page.locator('#doc-title').textContent()).includes('環境保護局'), 'the document view shows the title');
    check(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'doc-title', 'focus moves to the document title');
    const versions = page.locator('#versions .version');
    check(await versions.count() === 2, `the document lists 2 versions, not ${await versions.count()}`);
    check((await versions.first().locator('.version-title').textContent()).includes('2'), 'the newest version comes first');
    check((await versions.first().textContent()).includes(sha256(Buffer.from(TXT_V2))), "the newest version shows its content's SHA-256");
    const metaRows = await page.locator('#doc-meta').textContent();
    check(metaRows.includes(TXT_NAME) && metaRows.includes('臺北市政府環境保護局'), `the document shows its metadata: ${metaRows}`);
    await page.screenshot({ path: shot('03-document-desktop.png'), fullPage: true });
    noProblems('document view');
    ok('the document view shows metadata and both versions, newest first');

    // Download the newest version: the bytes are the file's.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      versions.first().locator('.btn-download').click(),
    ]);
    const got = readFileSync(await download.path());
    check(Buffer.compare(got, Buffer.from(TXT_V2)) === 0, `the download is the file's bytes (got ${got.length} bytes, sha256 ${sha256(got)})`);
    ok(`download of version 2 equals the file (${got.length} bytes, suggested name ${download.suggestedFilename()})`);
    const [download1] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      versions.nth(1).locator('.btn-download').click(),
    ]);
    check(Buffer.compare(readFileSync(await download1.path()), Buffer.from(TXT_V1)) === 0, 'the download of version 1 is the first file');
    ok('download of version 1 equals the first file');

    // Verify the newest version's proof in the browser.
    const v2 = versions.first();
    await v2.locator('.btn-verify').click();
    const verdict = v2.locator('.proof .verdict:not(.verdict-pending)');
    await verdict.waitFor({ timeout: 60_000 });
    const verdictText = (await verdict.textContent()).trim();
    const checks = await v2.locator('.proof .check').allTextContents();
    check(verdictText.startsWith('✓ 已验证'), `the proof verifies: "${verdictText}"; checks: ${JSON.stringify(checks)}`);
    check(await v2.locator('.proof .check-ok').count() === checks.length,
      `every check passed in the browser (Ed25519 included): ${JSON.stringify(checks)}`);
    const proof = await (await fetch(`${daemon.base}/api/v1/documents/${txt.id}/versions/2/proof`)).json();
    const facts = await v2.locator('.proof-facts').textContent();
    check(facts.includes(String(proof.log_index)) && facts.includes(String(proof.tree_size)) && facts.includes(proof.key_id),
      `the proof shows log index, tree size and key id: ${facts}`);
    check((await v2.locator('.proof pre.record').textContent()).includes(txt.id), 'the proof shows the record JSON');
    check((await v2.locator('.proof pre.checkpoint').textContent()).startsWith('browser.gongkai.test\n'), 'the proof shows the checkpoint');
    await v2.locator('.proof').screenshot({ path: shot('04-proof-panel.png') });
    await page.screenshot({ path: shot('04-verified-desktop.png'), fullPage: true });
    noProblems('verify');
    ok(`verify shows log index ${proof.log_index}, tree size ${proof.tree_size}, record, key and checkpoint: ${verdictText}`);

    // A tampered proof is caught.
    await page.route('**/versions/1/proof', async (route) => {
      const resp = await route.fetch();
      const body = await resp.json();
      body.record = body.record.replace(/"size":\d+/, '"size":1');
      await route.fulfill({ response: resp, json: body });
    });
    const v1 = versions.nth(1);
    await v1.locator('.btn-verify').click();
    await v1.locator('.proof .verdict:not(.verdict-pending)').waitFor({ timeout: 60_000 });
    check((await v1.locator('.proof .verdict').textContent()).includes('验证失败'), 'a tampered record fails verification');
    await page.unroute('**/versions/1/proof');
    ok('a tampered record is reported as failing verification');

    // Back to the results with the back button.
    await page.goBack();
    await page.locator('#results-view').waitFor({ state: 'visible', timeout: 10_000 });
    check(await page.inputValue('#q') === QUERY, 'the back button returns to the search, query kept');
    check(await page.locator('#results .result').count() >= 1, 'the results are shown again');
    ok('the back button returns to the results');

    // A question without an exact match: relaxed results under a hint that says so.
    await page.fill('#q', '请问环境保护局的空气品质公告在哪里');
    await page.press('#q', 'Enter');
    await page.locator('#results-message .alert').waitFor({ timeout: 30_000 });
    const hint = await page.locator('#results-message').textContent();
    check(hint.includes('没有完全符合') && hint.includes('已略去“请问、的、在哪里”'), `the relaxed answer says so: ${hint}`);
    check((await page.locator('#results .result-title').first().textContent()).includes('環境保護局'),
      'the relaxed answer finds the notice');
    const relaxedViolations = await axeViolations(page);
    check(relaxedViolations.length === 0, `axe-core finds, on the relaxed answer:\n  ${relaxedViolations.join('\n  ')}`);
    await page.screenshot({ path: shot('05-relaxed-desktop.png') });
    ok('a question without an exact match shows relaxed results under a hint');

    // No results, a missing document and rate limiting have clear messages.
    await page.fill('#q', '量子纠缠超导体');
    await page.press('#q', 'Enter');
    // The relaxed hint above is an alert too: wait for the one this search shows, not the last one.
    const noResults = page.locator('#results-message .alert', { hasText: '找不到符合' });
    await noResults.waitFor({ timeout: 30_000 }).catch(() => {});
    check(await noResults.count() === 1, `no results says so: ${await page.locator('#results-message').textContent()}`);
    await page.screenshot({ path: shot('05-no-results-desktop.png') });
    await page.goto(`${daemon.base}/#doc=no-such-document`);
    await page.locator('#doc-message .alert').waitFor({ timeout: 30_000 });
    check((await page.locator('#doc-message').textContent()).includes('找不到'), 'a missing document says so');
    await page.route('**/api/v1/search*', (route) => route.fulfill({
      status: 429, headers: { 'Retry-After': '1' }, contentType: 'application/json',
      body: '{"error":{"code":"rate_limited","message":"too many searches; try again in a second"}}',
    }));
    problems.length = 0;  // the browser logs the failed fetches themselves
    await page.goto(`${daemon.base}/?q=${encodeURIComponent('公告')}`);
    await page.locator('#results-message .alert').waitFor({ timeout: 30_000 });
    check((await page.locator('#results-message').textContent()).includes('查询过于频繁，请稍后再试'), 'a 429 says to slow down');
    await page.screenshot({ path: shot('06-rate-limited-desktop.png') });
    await page.unroute('**/api/v1/search*');
    await page.locator('#results-message .btn').click();  // 重試
    await page.locator('#results .result').first().waitFor({ timeout: 30_000 });
    ok('no results, a missing document and a 429 show clear messages; retry works');
    await desktop.close();

    // ---- phone
    const phone = await browser.newContext({
      viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-TW',
    });
    page = await phone.newPage();
    problems.length = 0;
    watch(page);
    await page.goto(`${daemon.base}/?q=${encodeURIComponent(QUERY)}`);
    await page.locator('#results .result mark').first().waitFor({ timeout: 30_000 });
    let w = await noHorizontalScroll(page);
    check(w.scrollWidth <= w.innerWidth, `no horizontal scrolling on a phone (results): ${JSON.stringify(w)}`);
    let small = await smallTouchTargets(page);
    check(small.length === 0, `touch targets under 44 px on the results page:\n  ${small.join('\n  ')}`);
    await page.screenshot({ path: shot('07-results-mobile.png'), fullPage: true });
    await page.locator('#results .result-title a').first().tap();
    await page.locator('#versions .version').first().waitFor({ timeout: 30_000 });
    await page.locator('#versions .version').first().locator('.btn-verify').tap();
    await page.locator('#versions .version .verdict-ok').first().waitFor({ timeout: 60_000 });
    w = await noHorizontalScroll(page);
    check(w.scrollWidth <= w.innerWidth, `no horizontal scrolling on a phone (document): ${JSON.stringify(w)}`);
    small = await smallTouchTargets(page);
    check(small.length === 0, `touch targets under 44 px on the document page:\n  ${small.join('\n  ')}`);
    await page.screenshot({ path: shot('08-document-mobile.png'), fullPage: true });
    noProblems('phone');
    ok('a 375×667 phone viewport renders results and document without horizontal scrolling, touch targets ≥ 44 px');
    await phone.close();
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

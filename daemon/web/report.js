// The annual report for inspectors: GET /api/v1/reports/annual?year=&format=
// with the token typed in here (the same sessionStorage entry as requests.js,
// never a URL, cookie or localStorage). The HTML report is shown in the page;
// the CSV is offered as a download.
import { h, ApiError, commonErrorText, messageBox, inspectorSession } from '/static/request-common.js';

const $ = (id) => document.getElementById(id);
const view = $('report-view');
const yearInput = $('year');
const output = $('report-output');
const message = $('report-message');
const status = $('report-status');

const session = inspectorSession(view, () => show());

// The report for `year` in `format`, as a Blob; rejects with an ApiError.
async function fetchReport(year, format) {
  let resp;
  try {
    resp = await fetch(`/api/v1/reports/annual?year=${encodeURIComponent(year)}&format=${format}`,
      { headers: { Authorization: `Bearer ${session.token()}` } });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (resp.ok) return resp.blob();
  let code = '', text = '';
  try {
    const err = (await resp.json()).error || {};
    code = err.code || '';
    text = err.message || '';
  } catch { /* not JSON */ }
  throw new ApiError(resp.status, code, text);
}

// Shows why a request failed; a refused token asks for another.
function showError(e) {
  if (e.status === 401 || e.status === 403) {
    session.forget();
    session.ask({ title: '令牌无效', text: e.status === 403 ? '此令牌无权查看年度报告。' : '令牌不正确或已被撤销，请重新输入。' });
    return;
  }
  const text = commonErrorText(e) ||
    (e.code === 'cross_check_failed' ? `统计表未通过校验，暂不生成：${e.message}`
      : e.status === 400 ? '请输入2000年以后的年份。' : `HTTP ${e.status}：${e.message}`);
  message.replaceChildren(messageBox('error', '年度报告未能生成', text));
}

const year = () => String(yearInput.value || '').trim();

// The report's <main>, without anything that could run, its headings one
// level down so that the page keeps its one <h1>.
function reportNodes(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll('script, style, link, meta').forEach((el) => el.remove());
  for (const [from, to] of [['h2', 'h3'], ['h1', 'h2']]) {
    doc.querySelectorAll(from).forEach((el) => el.replaceWith(h(to, { text: el.textContent })));
  }
  const main = doc.querySelector('main') || doc.body;
  return [...main.childNodes].map((n) => document.importNode(n, true));
}

async function show() {
  if (!session.token()) {
    session.ask(null);
    return;
  }
  session.hide();
  view.hidden = false;
  message.replaceChildren();
  if (!/^\d{4}$/.test(year())) {
    message.replaceChildren(messageBox('error', '请输入年份', '例如 2026。'));
    yearInput.setAttribute('aria-invalid', 'true');
    return;
  }
  yearInput.removeAttribute('aria-invalid');
  history.replaceState(null, '', `/report?year=${year()}`);
  status.textContent = '加载中…';
  try {
    output.replaceChildren(...reportNodes(await (await fetchReport(year(), 'html')).text()));
    status.textContent = `已显示${year()}年度的统计表`;
  } catch (e) {
    status.textContent = '';
    output.replaceChildren();
    showError(e);
  }
}

async function downloadCsv() {
  message.replaceChildren();
  try {
    const csv = await fetchReport(year(), 'csv');
    // A byte order mark, so that spreadsheet programs read the CSV as UTF-8.
    const url = URL.createObjectURL(new Blob(['\ufeff', csv], { type: 'text/csv' }));
    const a = h('a', { href: url, download: `annual-report-${year()}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    showError(e);
  }
}

$('year-form').addEventListener('submit', (e) => {
  e.preventDefault();
  show();
});
$('download-csv').addEventListener('click', downloadCsv);
$('logout').addEventListener('click', () => {
  session.forget();
  output.replaceChildren();
  session.ask(null, true);
});

const asked = new URLSearchParams(location.search).get('year');
yearInput.value = /^\d{4}$/.test(asked || '') ? asked : String(new Date().getFullYear() - 1);
show();

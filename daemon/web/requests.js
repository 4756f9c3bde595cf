// The inspectors' list of requests: GET /api/v1/requests with the token typed
// in here. The token lives in this tab's sessionStorage only: never in the
// URL, a cookie or localStorage. Filters are kept in the URL (?status=&overdue=).
// The API lists open and paused requests first, soonest due first.
import {
  h, api, commonErrorText, messageBox, inspectorSession, dateEl, dueEl, statusBadges, label,
  OUTCOME_LABELS, CHANNEL_LABELS, APPLICANT_LABELS,
} from '/static/request-common.js';

const $ = (id) => document.getElementById(id);
const listView = $('list-view');
const filterForm = $('filter-form');
const status = $('f-status');
const overdue = $('f-overdue');
const list = $('request-list');
const count = $('list-count');
const listMessage = $('list-message');

const session = inspectorSession(listView, () => load());

function readFilters() {
  const p = new URLSearchParams(location.search);
  status.value = [...status.options].some((o) => o.value === p.get('status')) ? p.get('status') : '';
  overdue.checked = p.get('overdue') === 'true';
}

function filterQuery() {
  const p = new URLSearchParams();
  if (status.value) p.set('status', status.value);
  if (overdue.checked) p.set('overdue', 'true');
  const s = p.toString();
  return s ? `?${s}` : '';
}

function fact(term, ...value) {
  return h('div', { class: 'fact-row' }, h('dt', { text: term }), h('dd', {}, ...value));
}

function item(r) {
  const a = r.applicant || {};
  return h('li', { class: r.overdue ? 'request-item overdue' : 'request-item' },
    h('div', { class: 'request-head' },
      h('h3', { class: 'request-title' }, h('a', { href: `/track?code=${encodeURIComponent(r.code)}` },
        h('span', { class: 'visually-hidden', text: '查询码 ' }), h('code', { text: r.code }))),
      h('p', { class: 'badges' }, ...statusBadges(r).filter(Boolean))),
    h('dl', { class: 'facts' },
      fact('申请人', h('strong', { class: 'applicant-name', text: a.name || '' }),
        `（${label(APPLICANT_LABELS, a.type)}）`),
      fact('联系方式', a.contact || '—'),
      fact('所需信息', h('span', { class: 'description', text: r.description || '' })),
      r.delivery ? fact('获取方式', r.delivery) : null,
      fact('收到日期', dateEl(r.received), `（${label(CHANNEL_LABELS, r.channel)}）`),
      r.status === 'closed' ? null : fact('答复期限', dueEl(r)),
      r.outcome ? fact('办理结果', label(OUTCOME_LABELS, r.outcome)) : null,
      r.closed ? fact('办结日期', dateEl(r.closed)) : null));
}

let loads = 0;  // only the latest load's answer is shown

async function load() {
  const mine = ++loads;
  const token = session.token();
  if (!token) {
    session.ask(null);
    return;
  }
  session.hide();
  listView.hidden = false;
  listView.setAttribute('aria-busy', 'true');
  listMessage.replaceChildren();
  count.textContent = '加载中…';
  let data;
  try {
    data = await api(`/api/v1/requests${filterQuery()}`, { token });
  } catch (e) {
    if (mine !== loads) return;
    listView.removeAttribute('aria-busy');
    count.textContent = '';
    if (e.status === 401 || e.status === 403) {
      session.forget();
      session.ask({ title: '令牌无效', text: e.status === 403 ? '此令牌无权查看申请清单。' : '令牌不正确或已被撤销，请重新输入。' });
      return;
    }
    list.replaceChildren();
    listMessage.replaceChildren(messageBox('error', '清单加载未成功', commonErrorText(e) || `HTTP ${e.status}：${e.message}`));
    return;
  }
  if (mine !== loads) return;
  listView.removeAttribute('aria-busy');
  const requests = data.results || [];
  const late = requests.filter((r) => r.overdue).length;
  count.textContent = `共 ${data.total ?? requests.length} 件${late ? `，其中 ${late} 件已逾期` : ''}`;
  list.replaceChildren(...requests.map(item));
  if (!requests.length) listMessage.replaceChildren(messageBox('info', '没有符合条件的申请'));
}

filterForm.addEventListener('submit', (e) => {
  e.preventDefault();
  history.replaceState(null, '', `/requests${filterQuery()}`);
  load();
});
// A filter applies when chosen; the pause lets keyboard users step through
// the options without a request for each.
let changeTimer = 0;
for (const el of [status, overdue]) {
  el.addEventListener('change', () => {
    clearTimeout(changeTimer);
    changeTimer = setTimeout(() => filterForm.requestSubmit(), 250);
  });
}

$('logout').addEventListener('click', () => {
  session.forget();
  list.replaceChildren();
  session.ask(null, true);
});

readFilters();
load();

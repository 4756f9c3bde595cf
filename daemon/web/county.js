// The county inspector's view on gongkai-hub: GET /api/v1/county with the
// token typed in here (kept in this tab's sessionStorage only, as on the
// townships' staff pages). Counts and dates only: no request's details.
import {
  h, api, commonErrorText, messageBox, inspectorSession, OUTCOME_LABELS, APPLICANT_LABELS,
} from '/static/request-common.js';

const $ = (id) => document.getElementById(id);
const view = $('county-view');
const message = $('county-message');
const session = inspectorSession(view, () => load());

const ROW_LABELS = {
  new: '一、本年新收政府信息公开申请数量',
  carried_over: '二、上年结转政府信息公开申请数量',
  ...OUTCOME_LABELS,
  results_total: '（七）总计',
  carried_forward: '四、结转下年度继续办理',
};

function when(s) {
  return s ? new Date(s).toLocaleString('zh-CN', { hour12: false }) : '从未';
}

function table(el, head, rows) {
  el.replaceChildren(
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => h('td', {}, c))))));
}

function render(c) {
  const t = c.totals;
  $('county-summary').textContent =
    `${Object.keys(c.nodes).length} 个乡镇：逾期未答复申请 ${t.requests_overdue} 件，` +
    `逾期未更新科室 ${t.overdue_offices} 个，镜像过期 ${t.stale_nodes} 个，` +
    `分叉告警 ${t.split_views} 次，未能读取 ${t.not_inspected} 个。`;
  const towns = Object.entries(c.nodes);
  table($('towns'), ['乡镇', '已验证记录', '已见证记录', '最近同步', '镜像', '分叉告警', '办理中申请', '逾期申请'],
    towns.map(([name, n]) => [
      name, String(n.tree_size), String(n.witnessed_size), when(n.synced),
      n.stale ? '过期' : '正常', String(n.split_views),
      String(n.requests.open ?? '—'), String(n.requests.overdue ?? '—'),
    ]));
  table($('offices'), ['乡镇', '科室', '最近更新', '距今天数', '是否逾期'],
    towns.flatMap(([name, n]) => n.offices.map((o) => [
      name, o.office || o.share, o.last_version ? when(o.last_version) : '尚无',
      o.days_since === null ? '—' : String(o.days_since), o.overdue ? '逾期' : '否',
    ])));
  const columns = Object.keys(APPLICANT_LABELS).concat('total');
  const rows = Object.keys(ROW_LABELS).filter((r) => c.table3[r]);
  const firstOutcome = rows.find((r) => r in OUTCOME_LABELS || r === 'results_total');
  $('table3-heading').textContent = `收到和处理政府信息公开申请情况（${c.year || ''}年，各乡镇合计）`;
  $('table3').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }),
      ...columns.map((k) => h('th', { scope: 'col', text: APPLICANT_LABELS[k] || '总计' })))),
    h('tbody', {}, ...rows.flatMap((r) => [
      // The national format's heading over the outcomes (（一） to （七）).
      r === firstOutcome && h('tr', {}, h('th', {
        scope: 'rowgroup', colspan: columns.length + 1, text: '三、本年度办理结果',
      })),
      h('tr', {}, h('th', { scope: 'row', text: ROW_LABELS[r] }),
        ...columns.map((k) => h('td', { text: String(c.table3[r][k] ?? 0) }))),
    ])));
}

async function load() {
  if (!session.token()) return session.ask(null, true);
  message.replaceChildren();
  try {
    const c = await api('/api/v1/county', { token: session.token() });
    session.hide();
    view.hidden = false;
    render(c);
  } catch (e) {
    if (e.status === 401) {
      session.forget();
      return session.ask({ title: '令牌无效', text: e.message || '请使用本汇总平台配置的检查员令牌。' });
    }
    message.replaceChildren(messageBox('error', '无法读取汇总', commonErrorText(e) || e.message));
  }
}

$('refresh').addEventListener('click', () => load());
$('logout').addEventListener('click', () => { session.forget(); session.ask(null, true); });
load();

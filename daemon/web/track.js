// A request's progress by its tracking code: GET /api/v1/requests/{code}
// without a token, so the answer holds no personal data. The code is kept in
// the URL (?code=), so a bookmark or the link from the form opens it again.
import {
  h, api, commonErrorText, messageBox, dateEl, dueEl, statusBadges, label,
  STATUS_LABELS, EVENT_LABELS, OUTCOME_LABELS, CHANNEL_LABELS, PROVISIONAL_NOTE,
} from '/static/request-common.js';

const $ = (id) => document.getElementById(id);
const form = $('track-form');
const input = $('code');
const message = $('track-message');
const result = $('track-result');
const SITE = '政务公开查询';

// Codes are lowercase base32; what a person copies may have spaces or capitals.
const normalize = (s) => s.replace(/\s+/g, '').toLowerCase();

function fact(term, value) {
  return h('div', { class: 'fact-row' }, h('dt', { text: term }), h('dd', {}, value));
}

function eventText(e) {
  let text = label(EVENT_LABELS, e.event);
  if (e.event === 'extended' && e.days) text += `（${e.days} 个工作日）`;
  if (e.outcome) text += `：${label(OUTCOME_LABELS, e.outcome)}`;
  return text;
}

function render(r) {
  $('result-badges').replaceChildren(...statusBadges(r).filter(Boolean));
  const rows = [
    fact('查询码', h('code', { text: r.code })),
    fact('办理状态', [label(STATUS_LABELS, r.status), r.overdue ? '（已逾期，超过答复期限）' : '']),
    fact('申请方式', label(CHANNEL_LABELS, r.channel)),
    fact('收到申请日期', dateEl(r.received)),
    r.status === 'closed' ? null : fact('答复期限', dueEl(r)),
    r.outcome ? fact('办理结果', label(OUTCOME_LABELS, r.outcome)) : null,
    r.replied ? fact('答复日期', dateEl(r.replied)) : null,
    r.closed && !r.replied ? fact('办结日期', dateEl(r.closed)) : null,
  ];
  $('result-facts').replaceChildren(...rows.filter(Boolean));
  const note = $('result-provisional');
  note.hidden = !(r.provisional && r.status !== 'closed');
  note.textContent = note.hidden ? '' : PROVISIONAL_NOTE;
  $('result-events').replaceChildren(...(r.events || []).map((e) => h('li', { class: `event event-${e.event}` },
    dateEl(e.date), h('span', { class: 'event-text', text: eventText(e) }))));
  result.hidden = false;
}

let lookups = 0;  // only the latest lookup's answer is shown

async function lookUp(code, focusResult) {
  const mine = ++lookups;
  message.replaceChildren();
  result.hidden = true;
  if (!code) {
    input.setAttribute('aria-invalid', 'true');
    message.replaceChildren(messageBox('error', '请输入查询码', '查询码在提交申请后显示，共 24 位。'));
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  $('track-status').textContent = '正在查询…';
  let r;
  try {
    r = await api(`/api/v1/requests/${encodeURIComponent(code)}`);
  } catch (e) {
    if (mine !== lookups) return;
    $('track-status').textContent = '';
    document.title = `查询办理进度 – ${SITE}`;
    // Any code that is not a request, well-formed or not, is simply not found.
    if (e.status === 404 || e.status === 400) {
      message.replaceChildren(messageBox('error', '未找到该申请',
        '未找到与此查询码对应的申请。请核对查询码是否完整、准确。'));
    } else {
      message.replaceChildren(messageBox('error', '查询未成功',
        e.status === 429 ? '查询过于频繁：同一网络地址每分钟可查询的次数有限，请稍后再试。' : commonErrorText(e) || `查询未成功（HTTP ${e.status}）。`));
    }
    return;
  }
  if (mine !== lookups) return;
  $('track-status').textContent = '';
  render(r);
  document.title = `办理情况：${label(STATUS_LABELS, r.status)} – ${SITE}`;
  if (focusResult) $('result-heading').focus();
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const code = normalize(input.value);
  input.value = code;
  history.replaceState(null, '', code ? `/track?code=${encodeURIComponent(code)}` : '/track');
  lookUp(code, true);
});

const initial = normalize(new URLSearchParams(location.search).get('code') || '');
if (initial) {
  input.value = initial;
  lookUp(initial, false);
}

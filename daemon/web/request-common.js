// What the pages for disclosure on application (apply, track, requests) share:
// building elements, calling the API, and the Chinese names of the API's
// values (CONTRACT section 8). As in app.js, text from the server is only
// ever set as text, never parsed as HTML.

// h('p', {class: 'x', text: 'hi'}, child, ...) builds an element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = v;
    else if (k === 'hidden') el.hidden = Boolean(v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// An answer other than 2xx: `status` is 0 when the server was not reached;
// `code` and `message` are the API's {"error": {...}} where it sent one.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Calls the API; resolves to the JSON answer, rejects with an ApiError.
// `body` is sent as JSON; `token` as a bearer token.
export async function api(path, { method = 'GET', body, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (resp.ok) return resp.json();
  let code = '', message = '';
  try {
    const err = (await resp.json()).error || {};
    code = err.code || '';
    message = err.message || '';
  } catch { /* not JSON, e.g. from a proxy */ }
  throw new ApiError(resp.status, code, message);
}

// The message for an error that every page treats alike, or '' for the
// page to say what it means there (400, 401, 404, ...).
export function commonErrorText(e) {
  if (!(e instanceof ApiError)) return `发生意外错误：${e.message || e}`;
  if (e.status === 0) return '无法连接到服务器，请检查网络后重试。';
  if (e.status === 429) return '操作过于频繁，请稍后再试。';
  if (e.status === 503) return '系统繁忙，请稍后再试。';
  if (e.status >= 500) return `服务器暂时无法处理（HTTP ${e.status}），请稍后再试。`;
  return '';
}

// A message box; `title` in bold, then `text`. Its container is what is
// announced (a role="alert" or role="status" element on each page).
export function messageBox(kind, title, ...text) {
  return h('div', { class: `alert alert-${kind}` },
    h('p', { class: 'alert-title', text: title }),
    ...text.filter(Boolean).map((t) => (t instanceof Node ? t : h('p', { text: t }))));
}

// The inspector's token on the staff pages (/requests, /report): typed into
// #token-form and kept in this tab's sessionStorage only, never in the URL,
// a cookie or localStorage. `view` is hidden while the form asks; `onToken`
// runs once a token is stored. A refused token is forgotten with forget().
export function inspectorSession(view, onToken) {
  const KEY = 'gongkai.inspector-token';
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  const error = document.getElementById('token-error');
  const session = {
    token: () => sessionStorage.getItem(KEY) || '',
    forget: () => sessionStorage.removeItem(KEY),
    // Shows the form; `problem` ({title, text}) says why it asks again.
    ask(problem, focus) {
      view.hidden = true;
      form.hidden = false;
      error.replaceChildren(problem ? messageBox('error', problem.title, problem.text) : '');
      if (problem) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      if (problem || focus) input.focus();
    },
    hide: () => { form.hidden = true; },
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      session.ask({ title: '请输入检查员令牌', text: '令牌由管理员用 gongkai token add --role inspector 生成。' });
      return;
    }
    sessionStorage.setItem(KEY, token);
    input.value = '';
    error.replaceChildren();
    onToken();
  });
  return session;
}

export const STATUS_LABELS = { open: '办理中', paused: '暂停计时', closed: '已办结' };

export const EVENT_LABELS = {
  received: '收到申请',
  supplement_requested: '要求补正',
  supplemented: '已补正',
  extended: '延长答复期限',
  consultation_started: '征求意见',
  consultation_ended: '征求意见结束',
  replied: '已答复',
  withdrawn: '申请人撤回',
  abandoned: '视为放弃',
};

// The rows of table 三 of the annual report (国办公开办函〔2021〕30号).
export const OUTCOME_LABELS = {
  disclosed: '予以公开',
  partial: '部分公开',
  'refused.state_secret': '不予公开（属于国家秘密）',
  'refused.law': '不予公开（其他法律行政法规禁止公开）',
  'refused.safety_stability': '不予公开（危及“三安全一稳定”）',
  'refused.third_party': '不予公开（保护第三方合法权益）',
  'refused.internal_affairs': '不予公开（属于三类内部事务信息）',
  'refused.process_info': '不予公开（属于四类过程性信息）',
  'refused.enforcement_file': '不予公开（属于行政执法案卷）',
  'refused.inquiry_matter': '不予公开（属于行政查询事项）',
  'unavailable.not_held': '无法提供（本机关不掌握相关政府信息）',
  'unavailable.needs_creation': '无法提供（没有现成信息需要另行制作）',
  'unavailable.unclear': '无法提供（补正后申请内容仍不明确）',
  'not_processed.petition': '不予处理（信访举报投诉类申请）',
  'not_processed.repeat': '不予处理（重复申请）',
  'not_processed.publication': '不予处理（要求提供公开出版物）',
  'not_processed.excessive': '不予处理（无正当理由大量反复申请）',
  'not_processed.confirmation': '不予处理（要求行政机关确认或重新出具已获取信息）',
  'other.no_supplement': '其他处理（申请人无正当理由逾期不补正）',
  'other.no_fee': '其他处理（申请人逾期未按收费通知要求缴纳费用）',
  'other.other': '其他处理',
};

export const CHANNEL_LABELS = {
  online: '网上申请', in_person: '当面提交', post: '信函（平信）', registered_post: '信函（挂号信）',
  fax: '传真', email: '电子邮件',
};

export const APPLICANT_LABELS = {
  person: '自然人', business: '商业企业', research: '科研机构', nonprofit: '社会公益组织',
  legal_service: '法律服务机构', other: '其他组织',
};

// The label for `value` in `labels`; an unknown value is shown as it is.
export const label = (labels, value) => labels[value] || String(value ?? '');

// <time> for an API date (YYYY-MM-DD).
export const dateEl = (date) => h('time', { datetime: date, text: date });

// What a request's state is, in words: the status, then "已逾期" and
// "已延长" where they hold. Never by colour alone: every mark is text.
export function statusBadges(r) {
  return [
    h('span', { class: `badge status-${r.status}`, text: label(STATUS_LABELS, r.status) }),
    r.overdue ? h('span', { class: 'badge badge-overdue', text: '已逾期' }) : null,
    r.extended ? h('span', { class: 'badge', text: '已延长' }) : null,
  ];
}

// The due date, with "暂定" when a year on the way has no holiday calendar yet.
export function dueEl(r) {
  return h('span', {}, dateEl(r.due), r.provisional ? h('span', { class: 'provisional', text: '（暂定）' }) : null);
}

export const PROVISIONAL_NOTE = '“暂定”：期限所经年份的法定节假日安排尚未公布，期限按现有日历推算，公布后可能调整。';

// The online request form (条例第二十八条): checks what it can before sending,
// posts to /api/v1/requests and shows the tracking code. A problem goes into
// the form's role="alert" box; the field at fault is marked aria-invalid and
// focused, and names the box in its aria-describedby until it is edited.
import { h, api, commonErrorText, messageBox, dateEl, PROVISIONAL_NOTE } from '/static/request-common.js';

const $ = (id) => document.getElementById(id);
const form = $('apply-form');
const errorBox = $('form-error');
const submit = $('submit');
const SITE = '政务公开查询';

// The API's text fields: the input holding each, its name in messages, its
// limit in UTF-8 bytes (the ledger's kMaxFieldBytes, kMaxDescriptionBytes)
// and whether it is required.
const FIELDS = [
  { key: 'applicant.name', id: 'applicant-name', name: '姓名/名称', max: 500, required: true },
  { key: 'applicant.id_number', id: 'applicant-id', name: '证件号码', max: 500 },
  { key: 'applicant.contact', id: 'applicant-contact', name: '联系方式', max: 500, required: true },
  { key: 'applicant.address', id: 'applicant-address', name: '通信地址', max: 500 },
  { key: 'description', id: 'description', name: '所需政府信息的描述', max: 10000, required: true },
];
const valueOf = (f) => $(f.id).value.trim();
const utf8Bytes = (s) => new TextEncoder().encode(s).length;

// [{text, id}]: what is wrong before anything is sent, in the form's order.
function checkFields() {
  const problems = [];
  for (const f of FIELDS) {
    const v = valueOf(f);
    if (f.required && !v) problems.push({ text: `请填写${f.name}。`, id: f.id });
    else if (utf8Bytes(v) > f.max) {
      problems.push({ text: `${f.name}过长：最多 ${f.max} 字节（约 ${Math.floor(f.max / 3)} 个汉字）。`, id: f.id });
    }
  }
  return problems;
}

function requestBody() {
  const v = (id) => valueOf(FIELDS.find((f) => f.id === id));
  return {
    applicant: {
      type: $('applicant-type').value,
      name: v('applicant-name'),
      id_number: v('applicant-id'),
      contact: v('applicant-contact'),
      address: v('applicant-address'),
    },
    description: v('description'),
    delivery: form.elements.delivery.value,
  };
}

// The server's refusal as {text, id}; a 400 names the API's field first
// ("applicant.name is required"), which points at the input.
function serverProblem(e) {
  if (e.status === 429) return { text: '提交过于频繁：同一网络地址每小时可提交的申请数量有限，请稍后再试。' };
  if (e.status === 413) return { text: '申请内容过长（超过 64 KB），请精简所需政府信息的描述后再提交。', id: 'description' };
  const common = commonErrorText(e);
  if (common) return { text: `${common}您填写的内容仍保留在表单中。` };
  if (e.status === 400) {
    const message = e.message || '';
    const f = FIELDS.find((x) => message.startsWith(`${x.key} `));
    if (f && message.includes('is required')) return { text: `请填写${f.name}。`, id: f.id };
    if (f && message.includes('longer than')) return { text: `${f.name}过长，请精简后再提交。`, id: f.id };
    if (f) return { text: `${f.name}有误（${message}）。`, id: f.id };
    if (message.startsWith('unknown applicant type')) return { text: '请选择申请人类型。', id: 'applicant-type' };
    return { text: `申请未能提交：${message || '内容有误'}。` };
  }
  return { text: `申请未能提交（HTTP ${e.status}），请稍后再试。` };
}

function clearInvalid(el) {
  el.removeAttribute('aria-invalid');
  const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== 'form-error');
  if (ids.length) el.setAttribute('aria-describedby', ids.join(' '));
  else el.removeAttribute('aria-describedby');
}

function showProblems(problems) {
  const items = problems.map((p) => (p.id
    ? h('li', {}, h('a', { href: `#${p.id}`, text: p.text }))
    : h('li', { text: p.text })));
  errorBox.replaceChildren(problems.length === 1
    ? messageBox('error', '申请未能提交', problems[0].text)
    : messageBox('error', `请修改以下 ${problems.length} 处后再提交：`, h('ul', {}, items)));
  for (const p of problems) {
    if (!p.id) continue;
    const el = $(p.id);
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') || ''} form-error`.trim());
  }
  const first = problems.find((p) => p.id);
  if (first) $(first.id).focus();
}

function clearProblems() {
  errorBox.replaceChildren();
  for (const el of form.querySelectorAll('[aria-invalid]')) clearInvalid(el);
}

function showDone(done) {
  $('done-code').textContent = done.code;
  $('done-received').replaceChildren(dateEl(done.received));
  $('done-due').replaceChildren(dateEl(done.due), done.provisional ? '（暂定）' : '');
  const note = $('done-provisional');
  note.hidden = !done.provisional;
  note.textContent = done.provisional ? PROVISIONAL_NOTE : '';
  $('done-track').href = `/track?code=${encodeURIComponent(done.code)}`;
  form.hidden = true;
  $('done').hidden = false;
  document.title = `申请已提交 – ${SITE}`;
  $('done-heading').focus();
}

let sending = false;
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (sending) return;
  clearProblems();
  const problems = checkFields();
  if (problems.length) {
    showProblems(problems);
    return;
  }
  sending = true;
  submit.setAttribute('aria-disabled', 'true');
  submit.textContent = '正在提交…';
  try {
    showDone(await api('/api/v1/requests', { method: 'POST', body: requestBody() }));
  } catch (err) {
    showProblems([serverProblem(err)]);
  } finally {
    sending = false;
    submit.removeAttribute('aria-disabled');
    submit.textContent = '提交申请';
  }
});

// A field stops being marked once it is changed.
form.addEventListener('input', (e) => {
  if (e.target.getAttribute('aria-invalid') === 'true') clearInvalid(e.target);
});

// The public search page: search, a document's versions, downloads and an
// in-browser check of each version's proof. Plain DOM, no framework; nothing
// from the server is ever put into innerHTML. The page's state lives in the
// URL: ?q=&share=&office=&type=&sort=&offset=&limit= for a search and
// #doc=ID for an open document, so links, reloads and the back button work.
// What comes from a document (titles, offices, paths, snippets, metadata) is
// marked translate="no", which lang.js leaves as written.
'use strict';

(() => {
  const PAGE_SIZE = 20;
  const FILTERS = ['share', 'office', 'type'];
  const SITE = '政务公开查询';

  const $ = (id) => document.getElementById(id);
  const els = {
    form: $('search-form'), q: $('q'), sort: $('f-sort'),
    select: { share: $('f-share'), office: $('f-office'), type: $('f-type') },
    status: $('status'),
    resultsView: $('results-view'), resultsHeading: $('results-heading'), resultsCount: $('results-count'),
    resultsMessage: $('results-message'), results: $('results'), pager: $('pager'),
    docView: $('doc-view'), docMessage: $('doc-message'), doc: $('doc'), backLink: $('back-link'),
    docOffice: $('doc-office'), docTitle: $('doc-title'), docBadges: $('doc-badges'),
    docMeta: $('doc-meta'), versions: $('versions'),
  };

  // ---------------------------------------------------------------- helpers

  // h('p', {class: 'x', text: 'hi'}, child, ...) builds an element. Text is
  // always set as text, never parsed as HTML.
  function h(tag, attrs, ...children) {
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

  const TYPE_LABELS = {
    pdf: 'PDF', txt: '纯文本', md: 'Markdown', html: '网页', htm: '网页', csv: 'CSV', json: 'JSON', xml: 'XML',
    doc: 'Word', docx: 'Word', xls: 'Excel', xlsx: 'Excel', ppt: 'PowerPoint', pptx: 'PowerPoint',
    odt: 'ODF 文件', ods: 'ODF 电子表格', ofd: 'OFD', wps: 'WPS', zip: 'ZIP', '7z': '7z', tar: 'TAR', gz: 'GZIP',
  };
  const typeLabel = (t) => (t ? TYPE_LABELS[t] || t.toUpperCase() : '其他');

  const META_LABELS = {
    title: '标题', doc_number: '文号', agency: '发文机关', category: '类别', published: '发布日期',
    keywords: '关键词', classification: '公开分类',
  };

  function formatDate(s) {
    if (!s) return '';
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
    return m ? `${m[1]}-${m[2]}-${m[3]}` : s;
  }
  function formatDateTime(s) {
    if (!s) return '';
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return s;
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  }
  function formatSize(n) {
    n = Number(n);
    if (!Number.isFinite(n)) return '';
    if (n < 1024) return `${n} 字节`;
    const units = ['KB', 'MB', 'GB', 'TB'];
    let u = -1;
    do { n /= 1024; u++; } while (n >= 1024 && u < units.length - 1);
    return `${n.toFixed(n < 10 ? 1 : 0)} ${units[u]}`;
  }
  const fmtInt = (n) => Number(n).toLocaleString('zh-CN');
  const time = (iso, text) => h('time', { datetime: iso || undefined, title: iso || undefined, text });

  // Renders a snippet from the API safely: every character is text, except
  // that the <b> and </b> markers around matches become <mark>. Snippets of a
  // query come from Xapian, which escapes &, < and >; those are decoded (into
  // text) here. Snippets of an empty query are raw text and left alone.
  function renderSnippet(snippet, escaped) {
    const frag = document.createDocumentFragment();
    if (!escaped) {
      frag.append(document.createTextNode(String(snippet || '')));
      return frag;
    }
    const decode = (s) => s.replace(/&(lt|gt|amp|quot|#39|apos);/g,
      (_, e) => ({ lt: '<', gt: '>', amp: '&', quot: '"', '#39': "'", apos: "'" })[e]);
    let mark = null;
    let last = null;  // the mark just closed, reopened when another follows at once
    for (const part of String(snippet || '').split(/(<\/?b>)/)) {
      if (part === '<b>') {
        if (!mark) {
          mark = last || h('mark');
          if (!last) frag.append(mark);
        }
      } else if (part === '</b>') {
        last = mark;
        mark = null;
      } else if (part) {
        (mark || frag).append(document.createTextNode(decode(part)));
        if (!mark) last = null;
      }
    }
    return frag;
  }

  // ------------------------------------------------------------------ state

  function readSearch() {
    const p = new URLSearchParams(location.search);
    const int = (v, d, max) => {
      const n = Number.parseInt(v, 10);
      return Number.isFinite(n) && n >= 0 ? Math.min(n, max) : d;
    };
    return {
      q: (p.get('q') || '').trim(),
      share: p.get('share') || '', office: p.get('office') || '', type: p.get('type') || '',
      sort: p.get('sort') || '',
      offset: int(p.get('offset'), 0, 1000000),
      limit: int(p.get('limit'), PAGE_SIZE, 100) || PAGE_SIZE,
    };
  }
  function searchQuery(s) {
    const p = new URLSearchParams();
    if (s.q) p.set('q', s.q);
    for (const f of FILTERS) if (s[f]) p.set(f, s[f]);
    if (s.sort) p.set('sort', s.sort);
    if (s.offset) p.set('offset', String(s.offset));
    if (s.limit && s.limit !== PAGE_SIZE) p.set('limit', String(s.limit));
    const str = p.toString();
    return str ? `?${str}` : '';
  }
  function readDocId() {
    const m = /^#doc=([^&]*)/.exec(location.hash);
    if (!m) return '';
    try { return decodeURIComponent(m[1]); } catch { return ''; }
  }
  const docHref = (id) => `${location.pathname}${location.search}#doc=${encodeURIComponent(id)}`;

  function navigate(url, replace) {
    const here = location.pathname + location.search + location.hash;
    if (replace || url === here) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    route();
  }

  // -------------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, signal) {
    let resp;
    try {
      resp = await fetch(path, { signal, headers: { Accept: 'application/json' } });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', '');
    }
    if (resp.ok) return resp.json();
    let code = '', message = '';
    try {
      const body = await resp.json();
      code = body.error?.code || '';
      message = body.error?.message || '';
    } catch { /* not JSON */ }
    throw new ApiError(resp.status, code, message);
  }

  function errorText(e, what) {
    if (!(e instanceof ApiError)) return `发生意外错误：${e.message || e}`;
    if (e.status === 429) return '查询过于频繁，请稍后再试。';
    if (e.status === 0) return '无法连接到服务器，请检查网络后再试。';
    if (e.status === 404) return what === 'doc' ? '找不到这份文件：它可能不存在、尚未公开或已不开放查阅。' : '找不到数据。';
    if (e.status === 400) return `查询无法处理：${e.message || '格式有误'}。请修改查询后再试。`;
    if (e.status === 401) return '需要授权才能查看。';
    return `服务器暂时无法处理请求（HTTP ${e.status}），请稍后再试。`;
  }

  function alertBox(kind, title, text, retry) {
    return h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : undefined },
      h('p', { class: 'alert-title', text: title }),
      text ? h('p', { text }) : null,
      retry ? h('button', { type: 'button', class: 'btn', onclick: retry, text: '重试' }) : null);
  }

  // ----------------------------------------------------------------- search

  let searchController = null;
  let renderedKey = null;   // the search (query string) the results list shows
  let resultsScroll = 0;

  function fillForm(s) {
    if (document.activeElement !== els.q || els.q.value.trim() !== s.q) els.q.value = s.q;
    els.sort.value = [...els.sort.options].some((o) => o.value === s.sort) ? s.sort : '';
    for (const f of FILTERS) {
      const sel = els.select[f];
      if (s[f] && ![...sel.options].some((o) => o.value === s[f])) {
        sel.append(h('option', { value: s[f], text: f === 'type' ? typeLabel(s[f]) : s[f] }));
      }
      sel.value = s[f];
    }
  }

  function fillFacets(s, facets) {
    const allLabel = { share: '全部来源', office: '全部机关', type: '全部类型' };
    for (const f of FILTERS) {
      const sel = els.select[f];
      const counts = Object.entries((facets && facets[f]) || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      if (s[f] && !counts.some(([v]) => v === s[f])) counts.unshift([s[f], 0]);
      sel.replaceChildren(h('option', { value: '', text: allLabel[f] }),
        ...counts.map(([v, n]) => h('option', { value: v, translate: f === 'type' ? undefined : 'no', text: `${f === 'type' ? typeLabel(v) : v}（${fmtInt(n)}）` })));
      sel.value = s[f];
    }
  }

  async function showResults(s) {
    document.body.classList.remove('doc-mode');
    els.docView.hidden = true;
    els.resultsView.hidden = false;
    const key = searchQuery(s);
    document.title = s.q ? `“${s.q}”的搜索结果 – ${SITE}` : SITE;
    if (key === renderedKey) {
      window.scrollTo(0, resultsScroll);
      return;
    }
    if (searchController) searchController.abort();
    const controller = new AbortController();
    searchController = controller;
    els.resultsView.setAttribute('aria-busy', 'true');
    els.resultsHeading.textContent = s.q ? '搜索结果' : '最新公开文件';
    els.resultsCount.textContent = '搜索中…';
    const params = new URLSearchParams(key.slice(1));
    params.set('limit', String(s.limit));
    let data;
    try {
      data = await api(`/api/v1/search?${params}`, controller.signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (controller !== searchController) return;
      els.resultsView.removeAttribute('aria-busy');
      renderedKey = null;
      els.results.replaceChildren();
      els.pager.hidden = true;
      els.resultsCount.textContent = '';
      const text = errorText(e, 'search');
      els.resultsMessage.replaceChildren(alertBox(e.status === 429 ? 'warn' : 'error',
        e.status === 429 ? '查询过于频繁，请稍后再试' : '搜索失败', e.status === 429 ? '为保护服务，每位用户的查询次数有限制；请稍候片刻再按“重试”。' : text,
        () => showResults(readSearch())));
      announce(e.status === 429 ? '查询过于频繁，请稍后再试' : text);
      return;
    }
    if (controller !== searchController) return;
    searchController = null;
    els.resultsView.removeAttribute('aria-busy');
    renderedKey = key;
    resultsScroll = 0;
    renderResults(s, data);
  }

  function renderResults(s, data) {
    fillFacets(s, data.facets);
    const total = Number(data.total) || 0;
    const results = data.results || [];
    const filtered = FILTERS.some((f) => s[f]);
    els.resultsMessage.replaceChildren();
    els.results.replaceChildren();
    if (results.length === 0) {
      els.resultsCount.textContent = total ? `共 ${fmtInt(total)} 条` : '';
      let title, text;
      if (total > 0) {
        title = '此页没有结果';
        text = '页码超出范围，请回到第一页。';
      } else if (s.q) {
        title = `找不到符合“${s.q}”的文件`;
        text = filtered ? '试试清除筛选条件，或改用较少、较一般的关键词。' : '请检查用字，或改用较少、较一般的关键词；繁体、简体皆可查询。';
      } else {
        title = '目前没有公开文件';
        text = filtered ? '此筛选条件下没有文件。' : '文件公开后会出现在这里。';
      }
      const box = alertBox('info', title, text);
      if (filtered) {
        box.append(h('button', { type: 'button', class: 'btn', text: '清除筛选', onclick: () => {
          const next = { ...s, offset: 0 };
          for (const f of FILTERS) next[f] = '';
          navigate(location.pathname + searchQuery(next));
        } }));
      } else if (total > 0) {
        box.append(h('a', { class: 'btn', href: location.pathname + searchQuery({ ...s, offset: 0 }), 'data-nav': '', text: '回到第一页' }));
      }
      els.resultsMessage.append(box);
      els.pager.hidden = true;
      announce(title);
      return;
    }
    const first = s.offset + 1;
    const last = s.offset + results.length;
    els.resultsCount.textContent = `共 ${fmtInt(total)} 条，第 ${fmtInt(first)}–${fmtInt(last)} 条`;
    if (data.relaxed) {
      const hint = relaxedHint(s.q, data);
      els.resultsMessage.append(alertBox('info', hint.title, hint.text));
      announce(`${hint.title}。${hint.text}`);
    } else {
      announce(s.q ? `找到 ${total} 条符合“${s.q}”的文件` : `共 ${total} 份文件`);
    }
    const escaped = Boolean(s.q);
    for (const r of results) {
      const date = formatDate(r.modified);
      els.results.append(h('li', { class: 'result' },
        h('h3', { class: 'result-title' },
          h('a', { href: docHref(r.id), 'data-doc': r.id, translate: 'no', text: r.title || r.path })),
        h('p', { class: 'result-meta' },
          h('span', { class: `badge badge-type type-${/^[a-z0-9]+$/.test(r.type || '') ? r.type : 'other'}`, text: typeLabel(r.type) }),
          r.office ? h('span', { class: 'office', translate: 'no', text: r.office }) : null,
          r.published ? h('span', { class: 'date' }, '发布于 ', time(r.published, formatDate(r.published))) : null,
          date ? h('span', { class: 'date' }, '修改于 ', time(r.modified, date)) : null),
        h('p', { class: 'result-path', translate: 'no', title: `${r.share}:${r.path}` },
          h('span', { class: 'share', text: r.share }), h('span', { class: 'sep', 'aria-hidden': 'true', text: ' / ' }),
          h('span', { text: r.path })),
        r.snippet ? h('p', { class: 'snippet', translate: 'no' }, renderSnippet(r.snippet, escaped)) : null));
    }
    renderPager(s, total);
  }

  // The hint above a relaxed answer (docs/api.md, "relaxed"): what matched
  // as typed, and which words were left out or made optional.
  function relaxedHint(q, data) {
    const strict = Number(data.strict_total) || 0;
    const dropped = data.dropped || [];
    const optional = data.optional || [];
    let text = strict ? '其后是相近的结果' : '以下是相近的结果';
    if (dropped.length) text += `，已略去“${dropped.join('、')}”`;
    if (optional.length) text += `，不一定包含全部词语：${optional.join('、')}`;
    return {
      title: strict ? `完全符合“${q}”的文件只有 ${strict} 份，排在最前` : `没有完全符合“${q}”的文件`,
      text: `${text}。`,
    };
  }

  function renderPager(s, total) {
    const pages = Math.max(1, Math.ceil(total / s.limit));
    const page = Math.floor(s.offset / s.limit) + 1;
    if (pages <= 1 && s.offset === 0) {
      els.pager.hidden = true;
      return;
    }
    const link = (label, offset, enabled, rel) => (enabled
      ? h('a', { class: 'btn', href: location.pathname + searchQuery({ ...s, offset }), 'data-nav': '', rel, text: label })
      : h('span', { class: 'btn', 'aria-disabled': 'true', text: label }));
    els.pager.replaceChildren(
      link('‹ 上一页', Math.max(0, s.offset - s.limit), s.offset > 0, 'prev'),
      h('span', { class: 'page-of', text: `第 ${fmtInt(page)} / ${fmtInt(pages)} 页` }),
      link('下一页 ›', s.offset + s.limit, s.offset + s.limit < total, 'next'));
    els.pager.hidden = false;
  }

  let announceTimer = 0;
  function announce(text) {
    // Cleared first so that the same message is announced again.
    els.status.textContent = '';
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => { els.status.textContent = text; }, 50);
  }

  // --------------------------------------------------------------- document

  let docController = null;

  async function showDoc(id, s) {
    if (!els.resultsView.hidden) resultsScroll = window.scrollY;
    els.resultsView.hidden = true;
    document.body.classList.add('doc-mode');
    els.docView.hidden = false;
    els.backLink.href = location.pathname + location.search;
    els.backLink.textContent = s.q ? '‹ 返回搜索结果' : '‹ 返回文件列表';
    els.doc.hidden = true;
    els.docMessage.replaceChildren(h('p', { class: 'loading', text: '加载中…' }));
    window.scrollTo(0, 0);
    if (docController) docController.abort();
    const controller = new AbortController();
    docController = controller;
    let doc;
    try {
      doc = await api(`/api/v1/documents/${encodeURIComponent(id)}`, controller.signal);
    } catch (e) {
      if (e.name === 'AbortError' || controller !== docController) return;
      document.title = `找不到文件 – ${SITE}`;
      const text = errorText(e, 'doc');
      els.docMessage.replaceChildren(alertBox(e.status === 404 ? 'info' : 'error',
        e.status === 404 ? '找不到文件' : e.status === 429 ? '查询过于频繁，请稍后再试' : '无法加载文件', text,
        e.status === 404 ? null : () => showDoc(id, s)));
      announce(text);
      els.backLink.focus();
      return;
    }
    if (controller !== docController) return;
    docController = null;
    renderDoc(doc);
  }

  function renderDoc(doc) {
    els.docMessage.replaceChildren();
    document.title = `${doc.title || doc.path} – ${SITE}`;
    els.docOffice.textContent = doc.office || doc.share;
    els.docTitle.textContent = doc.title || doc.path;
    const versions = doc.versions || [];
    els.docBadges.replaceChildren(...[
      h('span', { class: 'badge badge-type', text: typeLabel(doc.type) }),
      doc.status === 'withdrawn' ? h('span', { class: 'badge badge-warn', text: '已撤回' }) : h('span', { class: 'badge badge-ok', text: '公开中' }),
      doc.review === 'pending' ? h('span', { class: 'badge badge-warn', text: '待审核' }) : null,
      h('span', { class: 'badge', text: `${versions.length} 个版本` })].filter(Boolean));

    const rows = [
      ['机关', doc.office],
      ['来源', doc.share],
      ['路径', h('span', { class: 'path', text: doc.path })],
      ['类型', typeLabel(doc.type)],
      ['首次存档', doc.created ? time(doc.created, formatDateTime(doc.created)) : ''],
      ['最后更新', doc.updated ? time(doc.updated, formatDateTime(doc.updated)) : ''],
      ['文件标识', h('code', { text: doc.id })],
    ];
    const meta = doc.meta && typeof doc.meta === 'object' ? doc.meta : {};
    for (const [k, v] of Object.entries(meta)) {
      if (k === 'title' || v === '' || v === null || v === undefined) continue;
      const text = Array.isArray(v) ? v.join('、') : typeof v === 'object' ? JSON.stringify(v) : String(v);
      rows.push([META_LABELS[k] || k, text]);
    }
    els.docMeta.replaceChildren(...rows.filter(([, v]) => v !== '' && v !== undefined && v !== null)
      .map(([k, v]) => h('div', { class: 'meta-row' }, h('dt', { text: k }), h('dd', { translate: k === '类型' ? undefined : 'no' }, v))));

    const latest = versions.length ? versions[versions.length - 1].version : 0;
    els.versions.replaceChildren(...versions.slice().reverse().map((v) => renderVersion(doc, v, v.version === latest)));
    els.doc.hidden = false;
    announce(`已打开文件：${doc.title || doc.path}`);
    els.docTitle.focus({ preventScroll: true });
  }

  function renderVersion(doc, v, latest) {
    const base = `/api/v1/documents/${encodeURIComponent(doc.id)}/versions/${encodeURIComponent(v.version)}`;
    const filename = doc.path.split('/').pop().replace(/[\\/:*?"<>|]/g, '_') || 'document';
    const panelId = `proof-${v.version}`;
    const li = h('li', { class: 'version', 'data-version': v.version });
    const verifyBtn = h('button', {
      type: 'button', class: 'btn btn-verify', 'aria-expanded': 'false', 'aria-controls': panelId,
      text: '验证', 'aria-label': `验证第 ${v.version} 版`,
    });
    const panel = h('div', { class: 'proof', id: panelId, hidden: true, role: 'region', 'aria-label': `第 ${v.version} 版的验证结果` });
    verifyBtn.addEventListener('click', () => {
      const open = verifyBtn.getAttribute('aria-expanded') === 'true';
      if (open) {
        verifyBtn.setAttribute('aria-expanded', 'false');
        panel.hidden = true;
        return;
      }
      verifyBtn.setAttribute('aria-expanded', 'true');
      panel.hidden = false;
      if (!panel.dataset.loaded) {
        panel.dataset.loaded = '1';
        verifyVersion(doc, v, base, panel).catch((e) => {
          panel.dataset.loaded = '';
          panel.replaceChildren(alertBox('error', '验证失败', errorText(e, 'proof')));
        });
      }
    });
    li.append(
      h('div', { class: 'version-head' },
        h('h4', { class: 'version-title' }, `第 ${v.version} 版`),
        latest ? h('span', { class: 'badge badge-ok', text: '最新' }) : null,
        v.review === 'pending' ? h('span', { class: 'badge badge-warn', text: '待审核' }) : null),
      h('dl', { class: 'version-facts' },
        fact('修改时间', v.modified ? time(v.modified, formatDateTime(v.modified)) : '—'),
        fact('存档时间', v.archived ? time(v.archived, formatDateTime(v.archived)) : '—'),
        fact('大小', formatSize(v.size)),
        fact('日志索引', String(v.log_index)),
        fact('SHA-256', h('code', { class: 'hash', text: v.sha256 }), 'wide')),
      h('div', { class: 'version-actions' },
        h('a', { class: 'btn btn-primary btn-download', href: `${base}/content`, download: filename,
          'aria-label': `下载第 ${v.version} 版（${formatSize(v.size)}）`, text: '下载' }),
        verifyBtn),
      panel);
    return li;
  }

  function fact(label, value, cls) {
    return h('div', { class: cls ? `fact ${cls}` : 'fact' }, h('dt', { text: label }), h('dd', {}, value));
  }

  // ------------------------------------------------------------ verification

  const enc = new TextEncoder();
  const hexOf = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  function fromHex(s) {
    if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/i.test(s)) throw new Error('不是十六进制字符串');
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.substr(i * 2, 2), 16);
    return out;
  }
  function fromBase64(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  };
  const equalBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // SHA-256: WebCrypto where the page is a secure context (HTTPS or
  // localhost), else a small implementation of FIPS 180-4 so that the hash
  // checks work on a plain-HTTP intranet server too.
  const subtle = window.isSecureContext && window.crypto && window.crypto.subtle;
  async function sha256(bytes) {
    if (subtle) return new Uint8Array(await subtle.digest('SHA-256', bytes));
    return sha256Js(bytes);
  }
  const K256 = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  function sha256Js(msg) {
    const len = msg.length;
    const padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
    padded.set(msg);
    padded[len] = 0x80;
    const dv = new DataView(padded.buffer);
    dv.setUint32(padded.length - 8, Math.floor(len / 0x20000000));
    dv.setUint32(padded.length - 4, (len << 3) >>> 0);
    const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const W = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let off = 0; off < padded.length; off += 64) {
      for (let i = 0; i < 16; i++) W[i] = dv.getUint32(off + i * 4);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
        const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
      }
      let [a, b, c, d, e, f, g, k] = H;
      for (let i = 0; i < 64; i++) {
        const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + W[i]) >>> 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        k = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += k;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    H.forEach((x, i) => ov.setUint32(i * 4, x));
    return out;
  }

  // RFC 9162 §2.1.3.2: the root that an inclusion proof leads to.
  async function rootFromInclusion(index, size, leaf, path) {
    if (!(index >= 0 && index < size)) throw new Error(`日志索引 ${index} 不在树大小 ${size} 之内`);
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    const node = (l, rr) => sha256(concat(Uint8Array.of(1), l, rr));
    for (const p of path) {
      if (sn === 0) throw new Error('包含证明过长');
      if (fn % 2 === 1 || fn === sn) {
        r = await node(p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error('包含证明过短');
    return r;
  }

  // A C2SP signed note: the body (through its last newline) and signatures.
  function parseCheckpoint(text) {
    const cut = text.indexOf('\n\n');
    if (cut < 0) throw new Error('检查点格式有误');
    const body = text.slice(0, cut + 1);
    const lines = body.split('\n');
    const size = Number(lines[1]);
    if (!lines[0] || !/^\d+$/.test(lines[1] || '') || !lines[2]) throw new Error('检查点格式有误');
    const sigs = text.slice(cut + 2).split('\n').filter((l) => l.startsWith('\u2014 ')).map((l) => {
      const [, name, b64] = l.split(' ');
      const raw = fromBase64(b64);
      return { name, hash: hexOf(raw.slice(0, 4)), sig: raw.slice(4) };
    });
    return { origin: lines[0], size, root: fromBase64(lines[2]), body: enc.encode(body), sigs };
  }

  let keysPromise = null;
  const loadKeys = () => {
    keysPromise = keysPromise || api('/api/v1/keys').catch((e) => { keysPromise = null; throw e; });
    return keysPromise;
  };
  function pemToDer(pem) {
    return fromBase64(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
  }
  // null when the browser has no Ed25519 in WebCrypto.
  async function ed25519Verify(pem, sig, data) {
    if (!subtle) return null;
    let key;
    try {
      key = await subtle.importKey('spki', pemToDer(pem), { name: 'Ed25519' }, false, ['verify']);
    } catch (e) {
      if (e.name === 'NotSupportedError') return null;
      throw e;
    }
    return subtle.verify({ name: 'Ed25519' }, key, sig, data);
  }

  async function verifyVersion(doc, v, base, panel) {
    panel.replaceChildren(h('p', { class: 'loading', text: '正在取得证明…' }));
    const [proof, keys] = await Promise.all([api(`${base}/proof`), loadKeys()]);
    const verdict = h('p', { class: 'verdict verdict-pending', text: '验证中…' });
    const checks = h('ul', { class: 'checks' });
    let record = null;
    let recordText = proof.record;
    try {
      record = JSON.parse(proof.record);
      recordText = JSON.stringify(record, null, 2);
    } catch { /* shown as served */ }
    panel.replaceChildren(
      verdict,
      checks,
      h('dl', { class: 'proof-facts' },
        fact('日志索引', String(proof.log_index)),
        fact('树大小', String(proof.tree_size)),
        fact('密钥 ID', h('code', { class: 'hash', text: proof.key_id }), 'wide'),
        proof.leaf_hash ? fact('叶哈希', h('code', { class: 'hash', text: proof.leaf_hash }), 'wide') : null),
      h('h5', { text: '签名记录（JSON）' }),
      h('pre', { class: 'code record', tabindex: '0', text: recordText }),
      h('h5', { text: '日志检查点' }),
      h('pre', { class: 'code checkpoint', tabindex: '0', text: proof.checkpoint }),
      h('details', {},
        h('summary', { text: `包含证明（${(proof.inclusion || []).length} 个哈希）与记录签名` }),
        h('pre', { class: 'code', tabindex: '0', text: [...(proof.inclusion || []), '', `signature: ${proof.signature}`].join('\n') })));

    const results = [];
    const check = async (label, fn) => {
      const li = h('li', { class: 'check check-pending' }, h('span', { class: 'check-icon', 'aria-hidden': 'true', text: '…' }),
        h('span', { class: 'check-label', text: label }));
      checks.append(li);
      let outcome;
      try {
        const r = await fn();
        outcome = r === null ? { state: 'skip', note: '此浏览器不支持 Ed25519，未检查' }
          : r && typeof r === 'object' ? { state: 'skip', note: r.skip }
            : r ? { state: 'ok' } : { state: 'fail', note: '不相符' };
      } catch (e) {
        outcome = { state: 'fail', note: e.message || String(e) };
      }
      results.push(outcome.state);
      li.className = `check check-${outcome.state}`;
      li.firstChild.textContent = { ok: '✓', fail: '✗', skip: '–' }[outcome.state];
      if (outcome.note) li.append(h('span', { class: 'check-note', text: `（${outcome.note}）` }));
      return outcome.state === 'ok';
    };

    const recordBytes = enc.encode(proof.record);
    const key = (keys.keys || []).find((k) => k.key_id === proof.key_id);
    let checkpoint = null;

    await check('记录属于此文件的此版本', async () => {
      if (!record) throw new Error('记录不是 JSON');
      return record.doc === doc.id && Number(record.version) === Number(v.version) && record.sha256 === v.sha256 &&
        Number(record.seq) === Number(proof.log_index);
    });
    await check('下载内容的 SHA-256 与记录相符', async () => {
      if (v.size > 256 * 1024 * 1024) return { skip: '文件过大，请下载后以 sha256sum 检查' };
      const resp = await fetch(`${base}/content`);
      if (!resp.ok) throw new Error(`下载失败（HTTP ${resp.status}）`);
      const digest = hexOf(await sha256(new Uint8Array(await resp.arrayBuffer())));
      return digest === (record && record.sha256);
    });
    await check('密钥 ID 为公钥的 SHA-256', async () => {
      if (!key) throw new Error('公钥清单中没有此密钥');
      const der = pemToDer(key.public_key_pem);
      return hexOf(await sha256(der.slice(der.length - 32))) === proof.key_id;
    });
    await check('记录的 Ed25519 签名有效', async () => {
      if (!key) throw new Error('公钥清单中没有此密钥');
      return ed25519Verify(key.public_key_pem, fromBase64(proof.signature), recordBytes);
    });
    await check('包含证明通往检查点的根哈希', async () => {
      checkpoint = parseCheckpoint(proof.checkpoint);
      if (checkpoint.size !== Number(proof.tree_size)) throw new Error('树大小与检查点不符');
      const leaf = await sha256(concat(Uint8Array.of(0), recordBytes));
      if (proof.leaf_hash && hexOf(leaf) !== proof.leaf_hash) throw new Error('叶哈希不符');
      const root = await rootFromInclusion(Number(proof.log_index), checkpoint.size, leaf, (proof.inclusion || []).map(fromHex));
      return equalBytes(root, checkpoint.root);
    });
    await check('检查点的签名有效', async () => {
      if (!checkpoint) checkpoint = parseCheckpoint(proof.checkpoint);
      for (const s of checkpoint.sigs) {
        const k = (keys.keys || []).find((kk) => {
          const parts = (kk.note_key || '').split('+');
          return parts[0] === s.name && parts[1] === s.hash;
        });
        if (k) return ed25519Verify(k.public_key_pem, s.sig, checkpoint.body);
      }
      throw new Error('找不到签署此检查点的公钥');
    });

    if (results.includes('fail')) {
      verdict.className = 'verdict verdict-fail';
      verdict.textContent = '✗ 验证失败：此版本的证明未通过检查';
      announce(verdict.textContent);
    } else {
      verdict.className = 'verdict verdict-ok';
      verdict.textContent = '✓ 已验证';
      announce(`第 ${v.version} 版已验证`);
      if (results.includes('skip')) verdict.append(h('span', { class: 'verdict-note', text: '（部分签名未能在此浏览器中检查）' }));
      else verdict.append(h('span', { class: 'verdict-note', text: `此版本是透明日志第 ${proof.log_index} 条记录，日志大小 ${proof.tree_size}` }));
    }
  }

  // ------------------------------------------------------------ suggestions

  // Titles and 文号 that start with what is being typed, in a list under the
  // box: the ARIA combobox with a listbox (WAI-ARIA APG, list autocomplete).
  // Focus stays in the box; Down and Up move through the list
  // (aria-activedescendant), Enter searches for the marked one, Escape closes
  // the list. Not <datalist>: Chromium shows only the options that contain
  // the typed text, so Traditional input would hide Simplified titles and
  // "(" would hide a 文号 written with 〔〕. Asked for after a pause in typing
  // (never in the middle of an IME composition); a failure (a 429, say)
  // just offers nothing.
  const SUGGEST_DELAY_MS = 150;
  const SUGGEST_MAX_BYTES = 200;
  const SUGGEST_LIMIT = 8;
  const suggestList = $('q-suggestions');
  let suggestTimer = 0;
  let suggestController = null;
  let activeSuggestion = -1;

  // Set here, not in the page: without JavaScript the box is a plain search box.
  els.q.setAttribute('role', 'combobox');
  els.q.setAttribute('aria-autocomplete', 'list');
  els.q.setAttribute('aria-controls', suggestList.id);
  els.q.setAttribute('aria-expanded', 'false');

  function closeSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestController) suggestController.abort();
    suggestController = null;
    suggestList.hidden = true;
    suggestList.replaceChildren();
    activeSuggestion = -1;
    els.q.setAttribute('aria-expanded', 'false');
    els.q.removeAttribute('aria-activedescendant');
  }

  function markSuggestion(i) {
    [...suggestList.children].forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
    activeSuggestion = i;
    const li = suggestList.children[i];
    els.q.setAttribute('aria-activedescendant', li.id);
    li.scrollIntoView({ block: 'nearest' });
  }

  function chooseSuggestion(i) {
    const li = suggestList.children[i];
    if (!li) return;
    els.q.value = li.textContent;
    closeSuggestions();
    submitSearch();
  }

  function showSuggestions(texts) {
    suggestList.replaceChildren(...texts.map((text, i) => h('li', {
      id: `q-suggestion-${i}`, role: 'option', class: 'suggestion', 'aria-selected': 'false', translate: 'no', text,
      onmousedown: (e) => e.preventDefault(),  // focus stays in the box
      onclick: () => chooseSuggestion(i),
    })));
    activeSuggestion = -1;
    els.q.removeAttribute('aria-activedescendant');
    suggestList.hidden = texts.length === 0;
    els.q.setAttribute('aria-expanded', String(texts.length > 0));
  }

  async function fetchSuggestions() {
    const q = els.q.value.trim();
    if (suggestController) suggestController.abort();
    suggestController = null;
    if (!q || new TextEncoder().encode(q).length > SUGGEST_MAX_BYTES) {
      closeSuggestions();
      return;
    }
    const controller = new AbortController();
    suggestController = controller;
    let data;
    try {
      data = await api(`/api/v1/suggest?${new URLSearchParams({ q, limit: String(SUGGEST_LIMIT) })}`, controller.signal);
    } catch {
      return;
    }
    if (controller !== suggestController || document.activeElement !== els.q) return;
    suggestController = null;
    showSuggestions([...new Set((data.suggestions || []).map((s) => String(s.text)))]);
  }

  function scheduleSuggestions() {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(fetchSuggestions, SUGGEST_DELAY_MS);
  }

  els.q.addEventListener('input', (e) => { if (!e.isComposing) scheduleSuggestions(); });
  els.q.addEventListener('compositionend', scheduleSuggestions);
  els.q.addEventListener('blur', closeSuggestions);
  els.q.addEventListener('keydown', (e) => {
    if (e.isComposing) return;
    const n = suggestList.hidden ? 0 : suggestList.children.length;
    if (!n) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      markSuggestion(activeSuggestion < 0 ? (step > 0 ? 0 : n - 1) : (activeSuggestion + step + n) % n);
    } else if (e.key === 'Enter' && activeSuggestion >= 0) {
      e.preventDefault();
      chooseSuggestion(activeSuggestion);
    } else if (e.key === 'Escape') {
      e.preventDefault();  // closes the list only; a second Escape clears the box as usual
      closeSuggestions();
    }
  });

  // ----------------------------------------------------------------- router

  let routedHref = null;
  function route() {
    routedHref = location.href;
    const s = readSearch();
    fillForm(s);
    const id = readDocId();
    if (id) showDoc(id, s);
    else showResults(s);
  }

  function submitSearch() {
    const s = readSearch();
    const next = { ...s, q: els.q.value.trim(), sort: els.sort.value, offset: 0 };
    for (const f of FILTERS) next[f] = els.select[f].value;
    const url = location.pathname + searchQuery(next);
    if (url === location.pathname + location.search && !location.hash) {
      renderedKey = null;  // the same search again: refresh it
      navigate(url, true);
    } else {
      navigate(url);
    }
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(changeTimer);
    closeSuggestions();
    submitSearch();
  });
  // A filter applies as soon as it is chosen; a short pause lets keyboard
  // users step through the options without a search for each one.
  let changeTimer = 0;
  for (const sel of [els.sort, ...Object.values(els.select)]) {
    sel.addEventListener('change', () => {
      clearTimeout(changeTimer);
      changeTimer = setTimeout(submitSearch, 250);
    });
  }

  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest('a');
    if (!a) return;
    if (a.id === 'back-link' && history.state && history.state.fromResults) {
      e.preventDefault();
      history.back();
      return;
    }
    if (a.hasAttribute('data-doc')) {
      e.preventDefault();
      history.pushState({ fromResults: true }, '', a.getAttribute('href'));
      route();
      return;
    }
    if (a.hasAttribute('data-nav') || a.id === 'home-link' || a.id === 'back-link') {
      e.preventDefault();
      navigate(a.getAttribute('href'));
      if (a.hasAttribute('data-nav')) window.scrollTo(0, 0);
    }
  });
  // Going back or forward across a change of #doc= fires both events; the
  // page follows the first of them.
  const onHistory = () => { if (location.href !== routedHref) route(); };
  window.addEventListener('popstate', onHistory);
  window.addEventListener('hashchange', onHistory);

  route();
})();

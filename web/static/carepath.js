// carepath.js: what both pages share — building elements without innerHTML (so a name or a note
// can never become markup), calling the JSON API, dates in Moscow time, and problem+json errors.
(function () {
  'use strict';

  // h('p', {class: 'x'}, 'text', child…) builds an element. Attributes starting with "on" are
  // listeners; null/false attributes and children are skipped; strings become text nodes.
  function h(tag, attrs) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (let i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach((c) => append(el, c)); return; }
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  const TZ = 'Europe/Moscow';

  // fmtDate shows a "YYYY-MM-DD" date (or a timestamp's Moscow day) as 31.12.2026.
  function fmtDate(s) {
    if (!s) return '';
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (m) return m[3] + '.' + m[2] + '.' + m[1];
    const d = new Date(s);
    if (isNaN(d)) return s;
    return d.toLocaleDateString('ru-RU', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' });
  }

  // fmtDue shows a deadline's due_at (the end of its last day, Moscow midnight) as that last day.
  function fmtDue(s) {
    const t = Date.parse(s);
    return isNaN(t) ? (s || '') : fmtDate(new Date(t - 1000).toISOString());
  }

  function fmtDateTime(s) {
    if (!s) return '';
    const d = new Date(s);
    if (isNaN(d)) return s;
    return d.toLocaleString('ru-RU', {
      timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
    });
  }

  // today is the Moscow date as YYYY-MM-DD, the default for date fields.
  function today() {
    const p = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date());
    const get = (t) => p.find((x) => x.type === t).value;
    return get('year') + '-' + get('month') + '-' + get('day');
  }

  // request calls the API and never throws for an HTTP error: it resolves to
  // {ok, status, data, etag, retryAfter, problem}. A network failure is status 0.
  async function request(method, path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: 'application/json, application/problem+json' }, opts.headers || {});
    const init = { method, headers, credentials: 'omit', cache: 'no-store' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, problem: { title: 'Нет связи с сервером', detail: String(e) } };
    }
    let data = null;
    const text = await resp.text();
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    const out = {
      ok: resp.ok, status: resp.status, data,
      etag: resp.headers.get('ETag'), retryAfter: resp.headers.get('Retry-After'),
    };
    if (!resp.ok) out.problem = data || { title: resp.statusText || ('HTTP ' + resp.status) };
    return out;
  }

  // What each status means to a specialist, in one line above the server's detail.
  const PROBLEM_TITLES = {
    0: 'Нет связи с сервером',
    400: 'Запрос не принят: проверьте данные',
    401: 'Нужен действующий токен доступа',
    403: 'Недостаточно прав',
    404: 'Не найдено',
    409: 'Действие недоступно в текущем состоянии дела',
    412: 'Дело изменилось, пока вы его смотрели: обновите страницу',
    422: 'Действие не выполнено: условия не соблюдены',
    428: 'Не передана версия дела',
    429: 'Слишком много запросов',
    503: 'Сервис временно недоступен',
  };

  // problemBox renders a problem+json answer: a title for its status and the reasons in
  // Russian (every problem carries them: the domain's catalogue gives each a Russian sentence);
  // the server's English detail stays out of the page.
  function problemBox(res) {
    const p = res.problem || {};
    const title = PROBLEM_TITLES[res.status] || (res.status >= 500 ? 'Ошибка на сервере' : 'Ошибка');
    const reasons = (Array.isArray(p.reasons) ? p.reasons : []).map((r) => (r && r.message) || '').filter(Boolean);
    return h('div', { class: 'problem', role: 'alert', tabindex: '-1', dataset: { status: String(res.status) } },
      h('p', { class: 'problem-title' }, h('strong', {}, title), res.status ? ' (' + res.status + ')' : ''),
      reasons.length === 1 ? h('p', { class: 'problem-detail' }, reasons[0]) : null,
      reasons.length > 1 ? h('ul', { class: 'reasons' }, reasons.map((r) => h('li', {}, r))) : null,
      p.request_id ? h('p', { class: 'small muted' }, 'Номер запроса: ', h('code', {}, p.request_id)) : null);
  }

  // clear empties an element and puts new content in.
  function replace(el) {
    el.replaceChildren();
    for (let i = 1; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  window.carepath = { h, replace, fmtDate, fmtDue, fmtDateTime, today, request, problemBox };
})();

// partner.js: the page of a home's agency (/partner). It signs in with the agency's key (kept in
// sessionStorage, gone when the tab closes), shows its homes' sections and beds and the
// admissions expected on vouchers, and sends the beds in service per section
// (PUT /api/v1/agency/facilities/{id}/beds) for homes that have no program of their own.
(function () {
  'use strict';
  const { h, replace, fmtDate, fmtDateTime, request, problemBox } = window.carepath;
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  const KEY = 'carepath.partner-key';
  const SEX_LABELS = { any: 'мужчины и женщины', male: 'мужчины', female: 'женщины' };
  const DAY = 24 * 60 * 60 * 1000;

  const key = () => sessionStorage.getItem(KEY) || '';
  const api = (method, path, opts) => request(method, path,
    Object.assign({}, opts, { headers: Object.assign({ Authorization: 'Bearer ' + key() }, (opts || {}).headers || {}) }));

  function field(id, label, input, hint) {
    if (hint) input.setAttribute('aria-describedby', id + '-hint');
    return h('div', { class: 'field' }, h('label', { for: id }, label), input,
      hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null);
  }
  const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', { class: 'cell' }, ...content));

  function signIn(message) {
    nav.hidden = true;
    document.title = 'Вход — кабинет учреждения';
    const input = h('input', { id: 'partner-key', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' });
    const msg = h('div', { id: 'partner-message' }, message ? h('p', { class: 'problem', role: 'alert' }, message) : null);
    const form = h('form', { class: 'card', id: 'partner-login', onsubmit: async (e) => {
      e.preventDefault();
      const k = input.value.trim();
      if (!k) { replace(msg, h('p', { class: 'problem', role: 'alert' }, 'Вставьте ключ организации.')); input.focus(); return; }
      const res = await request('GET', '/api/v1/me', { headers: { Authorization: 'Bearer ' + k } });
      if (res.status === 401) { replace(msg, h('p', { class: 'problem', role: 'alert' }, 'Ключ не принят. Проверьте, что он скопирован целиком и не отозван.')); input.select(); return; }
      if (!res.ok) { replace(msg, problemBox(res)); return; }
      if (res.data.kind !== 'agency' || res.data.role !== 'facility') {
        replace(msg, h('p', { class: 'problem', role: 'alert', id: 'not-facility' },
          'Этот кабинет — для учреждений (домов-интернатов), которые сообщают центру о местах. ',
          res.data.kind === 'user' ? 'Сотрудники центра работают в ' : 'Ключ другой организации здесь не действует; сотрудники центра работают в ',
          h('a', { href: '/console' }, 'консоли'), '.'));
        return;
      }
      sessionStorage.setItem(KEY, k);
      show(res.data);
    } },
    h('h1', {}, 'Кабинет учреждения'),
    h('p', {}, 'Здесь учреждение сообщает центру, сколько мест в каждом отделении готово к приёму, и видит, кого ждать по путёвкам.'),
    field('partner-key', 'Ключ организации', input, 'Ключ выдаёт администратор центра. Он хранится только в этой вкладке, пока она открыта.'),
    h('button', { type: 'submit', class: 'primary' }, 'Войти'), msg);
    replace(main, h('div', { class: 'narrow' }, form));
    input.focus();
  }

  async function show(who) {
    nav.hidden = false;
    document.title = 'Кабинет учреждения — ' + who.name;
    const [homes, voucher] = await Promise.all([
      api('GET', '/api/v1/agency/facilities'),
      api('GET', '/api/v1/agency/cases?state=voucher_issued&limit=200'),
    ]);
    if (homes.status === 401) { sessionStorage.removeItem(KEY); signIn('Ключ больше не действует. Вставьте действующий ключ.'); return; }
    if (!homes.ok) { replace(main, h('h1', {}, who.name), problemBox(homes)); return; }
    // the voucher's home of each expected admission (one request per case: a home expects few)
    const expected = voucher.ok ? (voucher.data.items || []).slice(0, 50) : [];
    const details = await Promise.all(expected.map((c) => api('GET', '/api/v1/agency/cases/' + encodeURIComponent(c.id))));
    const coming = details.filter((r) => r.ok).map((r) => r.data);
    const items = homes.data.items || [];
    replace(main,
      h('h1', {}, who.name),
      h('p', { class: 'muted' }, 'Сообщайте о местах хотя бы раз в неделю, даже если ничего не изменилось: ',
        'учреждение без свежего отчёта центр видит как «без отчёта» и не может уверенно направлять к вам людей.'),
      items.length ? items.map((f) => homeCard(f, coming.filter((c) => c.voucher_facility_id === f.id)))
        : h('p', { class: 'empty' }, 'За вашей организацией не закреплено ни одного учреждения. Обратитесь в центр.'),
      voucher.ok ? null : problemBox(voucher));
  }

  function homeCard(f, coming) {
    const box = h('div', { class: 'report-result', id: 'result-' + f.id });
    const rows = (f.sections || []).map((s) => {
      const input = h('input', { type: 'number', min: 0, max: 100000, value: String(s.capacity), required: true, inputmode: 'numeric',
        class: 'beds-input', id: 'beds-' + f.id.slice(0, 8) + '-' + s.code, dataset: { code: s.code },
        'aria-label': 'Мест готово к приёму: ' + s.title });
      const free = h('strong', { class: 'free' }, String(s.free));
      input.addEventListener('input', () => {
        const n = parseInt(input.value, 10);
        free.textContent = isNaN(n) ? '—' : String(n - s.occupied - s.reserved);
      });
      return h('tr', { dataset: { section: s.code } },
        cell('Отделение', s.title, s.bedridden ? h('span', { class: 'muted small' }, ' (для лежачих)') : null),
        cell('Принимает', SEX_LABELS[s.sex] || s.sex),
        cell('Занято', String(s.occupied)),
        cell('Ждут по путёвке', String(s.reserved)),
        cell('Мест готово к приёму', input),
        cell('Свободно', free));
    });
    const form = h('form', { class: 'beds-report', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const sections = [...form.querySelectorAll('.beds-input')].map((i) => ({ code: i.dataset.code, capacity: parseInt(i.value, 10) }));
      if (sections.some((s) => isNaN(s.capacity) || s.capacity < 0)) {
        replace(box, h('p', { class: 'problem', role: 'alert', tabindex: '-1' }, 'Укажите число мест в каждом отделении (0 или больше).'));
        box.firstChild.focus();
        return;
      }
      button.disabled = true;
      const res = await api('PUT', '/api/v1/agency/facilities/' + encodeURIComponent(f.id) + '/beds', { body: { sections } });
      button.disabled = false;
      if (!res.ok) { replace(box, problemBox(res)); box.firstChild.focus(); return; }
      const card = homeCard(res.data, coming);
      form.closest('section').replaceWith(card);
      const done = card.querySelector('.report-result');
      replace(done, h('div', { class: 'flash', role: 'status', tabindex: '-1' }, 'Отчёт принят ' + fmtDateTime(res.data.reported_at) + '. Спасибо!'));
      done.firstChild.focus();
    } },
    h('div', { class: 'table-scroll' }, h('table', { class: 'cases beds' },
      h('thead', {}, h('tr', {}, ['Отделение', 'Принимает', 'Занято', 'Ждут по путёвке', 'Мест готово к приёму', 'Свободно']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))));
    const button = h('button', { type: 'submit', class: 'primary' }, 'Отправить отчёт о местах');
    form.appendChild(h('div', { class: 'buttons' }, button));
    const days = f.reported_at ? Math.floor((Date.now() - Date.parse(f.reported_at)) / DAY) : null;
    return h('section', { class: 'card home', 'aria-labelledby': 'h-' + f.id, dataset: { facilityId: f.id, stale: String(f.stale) } },
      h('h2', { id: 'h-' + f.id }, f.name, ' ', f.stale ? h('span', { class: 'badge danger' }, 'нужен отчёт о местах') : null),
      h('p', { class: 'muted' }, f.reported_at ? 'Последний отчёт: ' + fmtDateTime(f.reported_at) + (days > 0 ? ' (дней назад: ' + days + ')' : '')
        : 'Отчётов о местах ещё не было.'),
      form, box,
      h('h3', {}, 'Ожидаемые поступления'),
      coming.length ? h('ul', { class: 'expected' }, coming.map((c) => h('li', {},
        h('span', { class: 'mono' }, c.number), ' ', h('strong', {}, c.applicant.full_name),
        c.voucher_valid_until ? ', путёвка действительна до ' + fmtDate(c.voucher_valid_until) : '')))
        : h('p', { class: 'empty' }, 'По путёвкам сейчас никого не ждут.'));
  }

  document.getElementById('logout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    signIn();
  });

  async function start() {
    if (!key()) { signIn(); return; }
    const res = await api('GET', '/api/v1/me');
    if (!res.ok || res.data.kind !== 'agency' || res.data.role !== 'facility') { sessionStorage.removeItem(KEY); signIn(); return; }
    show(res.data);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

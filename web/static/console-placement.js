// console-placement.js: the console's placement pages (issue 17), on window.carepath.console:
//   /console/waiting-list   the waiting list by type of home, home or district: positions,
//                           priorities, needs and preferences
//   /console/beds           the occupancy board: homes × sections, beds, last report, stale homes
//   /console/offers         the offers of freed beds: accept (issues the voucher), decline with a reason
//   /console/homes/new, /console/homes/{id}   the home form with its sections (If-Match)
// and the placement panel of a case page (priority, preferences, position, estimate, offers).
(function () {
  'use strict';
  const { h, replace, fmtDate, fmtDateTime, problemBox } = window.carepath;
  const C = window.carepath.console;
  const REF = window.CAREPATH_REF;
  const { api, facilities, field, select, cell, dl, section, setTitle, main } = C;

  const TYPE_LABELS = {
    elderly_disabled: 'Дом-интернат для престарелых и инвалидов',
    psychoneurological: 'Психоневрологический интернат',
    veterans: 'Дом ветеранов',
  };
  const typeLabel = (t) => TYPE_LABELS[t] || t || '—';
  const SEX_LABELS = { any: 'мужчины и женщины', male: 'мужчины', female: 'женщины' };
  const NEED_SEX_LABELS = { male: 'мужское отделение', female: 'женское отделение', any: 'любое отделение' };
  const OFFER_STATE_LABELS = {
    proposed: 'ждёт ответа', accepted: 'принято, путёвка выдана', declined: 'отклонено', expired: 'истекло без ответа',
    withdrawn: 'отозвано',
  };
  const MANAGERS = new Set(['supervisor', 'admin']);
  const DAY = 24 * 60 * 60 * 1000;

  // ---- shared lookups (once per page) --------------------------------------------------------

  const once = (fn) => { let p = null; return () => { if (!p) { p = fn(); p.catch(() => { p = null; }); } return p; }; };
  const priorities = once(() => api('GET', '/api/v1/priorities').then((r) => (r.ok ? r.data.items : [])));
  const declineReasons = once(() => api('GET', '/api/v1/decline-reasons').then((r) => (r.ok ? r.data.items : [])));
  const districtsOf = (fs) => [...new Set(fs.map((f) => f.district).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'ru'));
  const homeName = (fs, id) => { const f = fs.find((x) => x.id === id); return f ? f.name : 'учреждение'; };
  const sectionTitle = (fs, id, code) => {
    const f = fs.find((x) => x.id === id);
    const s = f && (f.sections || []).find((x) => x.code === code);
    return s ? s.title : 'отделение';
  };

  // days since a report, for the stale mark
  const daysSince = (t) => Math.floor((Date.now() - Date.parse(t)) / DAY);
  const daysWord = (n) => {
    const m10 = n % 10, m100 = n % 100;
    if (m10 === 1 && m100 !== 11) return n + ' день';
    if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return n + ' дня';
    return n + ' дней';
  };
  const monthsWord = (n) => {
    const m10 = n % 10, m100 = n % 100;
    if (m10 === 1 && m100 !== 11) return 'месяца';
    return 'месяцев';
  };

  function preferencesText(p, fs) {
    const parts = [];
    if ((p.districts || []).length) parts.push('районы: ' + p.districts.join(', '));
    if ((p.facility_ids || []).length) parts.push('учреждения: ' + p.facility_ids.map((id) => homeName(fs, id)).join(', '));
    return parts.length ? parts.join('; ') : 'любое учреждение этого типа';
  }

  function needText(sex, bedridden) {
    return (NEED_SEX_LABELS[sex] || 'отделение') + (bedridden ? ', для лежачих' : '');
  }

  // estimateText renders a wait estimate {from_months, to_months} (null: none) with its basis;
  // the API adds the estimate to the placement in a later revision: nothing shows until then.
  function estimateText(w) {
    if (!w) return null;
    const e = w.estimate;
    const basis = w.estimate_basis || {};
    if (e && typeof e.from_months === 'number') {
      const range = e.from_months === e.to_months ? 'около ' + e.to_months : 'от ' + e.from_months + ' до ' + e.to_months;
      return h('span', { class: 'estimate' }, h('strong', {}, range + ' ' + monthsWord(e.to_months)),
        basis.admissions !== undefined ? h('span', { class: 'muted small' },
          ' (поступлений за ' + (basis.period_months || 12) + ' мес.: ' + basis.admissions + ')') : null);
    }
    if (basis.reason) return h('span', { class: 'muted' }, basis.reason);
    return null;
  }

  // waitingParts finds the wait figures in a placement answer, whatever key holds them: any
  // object with an estimate_basis (with preferences, and for any home of the type).
  function waitingParts(data) {
    const out = [];
    const look = (o) => {
      if (!o || typeof o !== 'object') return;
      for (const v of Object.values(o)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && 'estimate_basis' in v) out.push(v);
      }
    };
    look(data);
    look(data && data.placement);
    if (data && data.estimate_basis) out.unshift(data);
    return out;
  }

  function filterForm(action, label, fields) {
    return h('form', { class: 'filters card pl-filters', method: 'get', action, role: 'search', 'aria-label': label },
      fields, h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Показать')));
  }

  // subnav links the placement pages to each other (the console's menu has one link to them).
  function subnav(current) {
    return h('nav', { class: 'subnav', 'aria-label': 'Размещение' }, [
      ['/console/waiting-list', 'Очередь'], ['/console/beds', 'Места в учреждениях'], ['/console/offers', 'Предложения мест'],
    ].map(([href, label]) => h('a', { href, 'aria-current': href === current ? 'page' : null }, label)));
  }

  function flash(text, ...more) {
    return h('div', { class: 'flash', role: 'status', tabindex: '-1', id: 'placement-flash' }, text, ...more);
  }

  // ---- the waiting list ----------------------------------------------------------------------

  C.addPage(/^\/console\/waiting-list$/, async () => {
    setTitle('Очередь');
    const q = new URLSearchParams(location.search);
    const fs = await facilities();
    const f = {
      facility_type: q.get('facility_type') || '', facility_id: q.get('facility_id') || '', district: q.get('district') || '',
      cursor: q.get('cursor') || '',
    };
    if (!f.facility_type) f.facility_type = REF.facility_types[0];
    const form = filterForm('/console/waiting-list', 'Фильтр очереди', [
      field('facility_type', 'Тип учреждения', select('facility_type', REF.facility_types.map((t) => [t, typeLabel(t)]), f.facility_type)),
      field('facility_id', 'Учреждение', select('facility_id', [['', 'Любое этого типа']]
        .concat(fs.filter((x) => x.type === f.facility_type).map((x) => [x.id, x.name])), f.facility_id)),
      field('district', 'Район', select('district', [['', 'Любой']].concat(districtsOf(fs).map((d) => [d, d])), f.district)),
    ]);
    // a home chosen: its list (the cases it can take); else the type's
    const params = new URLSearchParams();
    if (f.facility_id) params.set('facility_id', f.facility_id);
    else params.set('facility_type', f.facility_type);
    for (const k of ['district', 'cursor']) if (f[k]) params.set(k, f[k]);
    params.set('limit', '50');
    const res = await api('GET', '/api/v1/waiting-list?' + params);
    const head = [subnav('/console/waiting-list'), h('h1', {}, 'Очередь на размещение'),
      h('p', { class: 'muted' }, 'Порядок: приоритет, затем дата признания нуждающимся, затем номер дела. ',
        'Отказ от места или аннулированная путёвка не отодвигают человека в конец очереди.'), form];
    if (!res.ok) { replace(main, head, problemBox(res)); return; }
    const items = res.data.items || [];
    const withEstimate = items.some((e) => waitingParts(e).length || 'estimate' in e);
    const rows = items.map((e) => h('tr', { dataset: { caseId: e.case_id, position: String(e.position) }, class: e.review ? 'review' : null },
      cell('Место', h('strong', { class: 'position' }, String(e.position))),
      cell('Дело', h('a', { href: '/console/cases/' + e.case_id, class: 'case-link mono' }, e.number)),
      cell('Заявитель', e.applicant_name || ''),
      cell('Приоритет', e.priority_title || e.priority, e.review ? h('span', { class: 'badge danger' }, 'нужен пересмотр') : null),
      cell('Признан нуждающимся', fmtDate(e.recognized_at)),
      cell('Нужно', needText(e.sex, e.bedridden)),
      cell('Пожелания', preferencesText(e, fs)),
      cell('Подходит учреждений', e.homes_possible > 0 ? String(e.homes_possible)
        : h('span', { class: 'badge danger' }, 'ни одного')),
      withEstimate ? cell('Ожидание', estimateText(waitingParts(e)[0] || e) || '—') : null));
    const next = new URLSearchParams(q);
    next.set('cursor', res.data.next_cursor || '');
    const first = new URLSearchParams(q);
    first.delete('cursor');
    replace(main, head,
      items.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'cases', id: 'waiting-list' },
        h('thead', {}, h('tr', {}, ['Место', 'Дело', 'Заявитель', 'Приоритет', 'Признан нуждающимся', 'Нужно', 'Пожелания',
          'Подходит учреждений'].concat(withEstimate ? ['Ожидание'] : []).map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)))
        : h('p', { class: 'empty' }, 'В этой очереди никого нет.'),
      h('nav', { class: 'pager', 'aria-label': 'Страницы очереди' },
        f.cursor ? h('a', { href: '/console/waiting-list?' + first }, 'В начало очереди') : null,
        res.data.next_cursor ? h('a', { href: '/console/waiting-list?' + next, rel: 'next', id: 'waiting-next' }, 'Следующие 50') : null));
  });

  // ---- the occupancy board -------------------------------------------------------------------

  C.addPage(/^\/console\/beds$/, async (who) => {
    setTitle('Места в учреждениях');
    const q = new URLSearchParams(location.search);
    const f = { type: q.get('type') || '', district: q.get('district') || '' };
    const all = await facilities();
    const params = new URLSearchParams();
    if (f.type) params.set('type', f.type);
    if (f.district) params.set('district', f.district);
    const res = await api('GET', '/api/v1/facilities?' + params);
    const manager = MANAGERS.has(who.role);
    const head = [subnav('/console/beds'), h('div', { class: 'page-head' }, h('h1', {}, 'Места в учреждениях'),
      manager ? h('a', { class: 'button', href: '/console/homes/new', id: 'home-new' }, 'Добавить учреждение') : null),
    filterForm('/console/beds', 'Фильтр учреждений', [
      field('type', 'Тип учреждения', select('type', [['', 'Все типы']].concat(REF.facility_types.map((t) => [t, typeLabel(t)])), f.type)),
      field('district', 'Район', select('district', [['', 'Все районы']].concat(districtsOf(all).map((d) => [d, d])), f.district)),
    ])];
    if (!res.ok) { replace(main, head, problemBox(res)); return; }
    const homes = res.data.items || [];
    const free = homes.filter((x) => x.active).reduce((n, x) => n + Math.max(0, x.free_beds), 0);
    const stale = homes.filter((x) => x.stale).length;
    const th = (t) => h('th', { scope: 'col' }, t);
    const bodies = homes.map((x) => {
      const reported = x.reported_at ? fmtDateTime(x.reported_at) : 'не было';
      const homeRow = h('tr', { class: 'home-row' + (x.stale ? ' stale' : '') },
        h('th', { colspan: 8, scope: 'rowgroup' }, h('div', { class: 'home-head' },
          h('strong', {}, x.name),
          h('span', { class: 'muted small' }, ' ' + typeLabel(x.type) + (x.district ? ' · ' + x.district : '')),
          x.active ? null : h('span', { class: 'badge' }, 'не принимает'),
          x.stale ? h('span', { class: 'badge danger stale-mark' },
            x.reported_at ? 'нет отчёта ' + daysWord(daysSince(x.reported_at)) : 'ни одного отчёта') : null,
          h('span', { class: 'small' }, ' Свободно: ', h('strong', { class: 'home-free' }, String(x.free_beds)), ' из ' + x.capacity),
          manager ? h('a', { href: '/console/homes/' + x.id, class: 'small', 'aria-label': 'Изменить: ' + x.name }, 'Изменить') : null)));
      const secRows = (x.sections || []).map((s) => h('tr', { dataset: { section: s.code }, class: s.free > 0 ? 'has-free' : null },
        cell('Отделение', s.title, s.bedridden ? h('span', { class: 'muted small' }, ' (для лежачих)') : null),
        cell('Принимает', SEX_LABELS[s.sex] || s.sex),
        cell('Мест', String(s.capacity)),
        cell('Занято', String(s.occupied)),
        cell('В резерве', String(s.reserved)),
        cell('Свободно', s.free > 0 ? h('strong', { class: 'free' }, String(s.free)) : h('span', { class: 'free' }, String(s.free))),
        cell('Последний отчёт', s.reported_at ? fmtDateTime(s.reported_at) : reported),
        h('td', { class: 'row-action' })));
      return h('tbody', { class: 'home' + (x.stale ? ' stale' : ''), dataset: { facilityId: x.id, stale: String(x.stale) } }, homeRow, secRows);
    });
    replace(main, head,
      h('p', { id: 'beds-summary' }, 'Учреждений: ' + homes.length + '. Свободных мест: ', h('strong', {}, String(free)), '. ',
        stale ? h('span', { class: 'badge danger' }, 'без свежего отчёта: ' + stale) : 'Все учреждения отчитались вовремя.'),
      homes.length ? h('div', { class: 'table-scroll' }, h('table', { class: 'cases beds', id: 'beds' },
        h('thead', {}, h('tr', {}, ['Отделение', 'Принимает', 'Мест', 'Занято', 'В резерве', 'Свободно', 'Последний отчёт', ''].map(th))),
        bodies)) : h('p', { class: 'empty' }, 'Учреждений с такими условиями нет.'));
  });

  // ---- the offers inbox ----------------------------------------------------------------------

  C.addPage(/^\/console\/offers$/, async () => {
    setTitle('Предложения мест');
    const q = new URLSearchParams(location.search);
    const state = q.has('state') ? q.get('state') : 'proposed';
    const [res, fs, reasons] = await Promise.all([
      api('GET', '/api/v1/offers' + (state ? '?state=' + encodeURIComponent(state) : '')), facilities(), declineReasons()]);
    const box = h('div', { id: 'offers-flash' });
    const head = [subnav('/console/offers'), h('h1', {}, 'Предложения освободившихся мест'),
      h('p', { class: 'muted' }, 'Место, которое освободилось, предлагается первому подходящему делу очереди. ',
        'Принятие выдаёт путёвку; при отказе место переходит следующему.'),
      filterForm('/console/offers', 'Фильтр предложений', [
        field('state', 'Состояние', select('state', [['', 'Все']].concat(Object.entries(OFFER_STATE_LABELS)), state))]),
      box];
    if (!res.ok) { replace(main, head, problemBox(res)); return; }
    const items = res.data.items || [];
    const now = Date.now();
    const list = h('ul', { class: 'offers', id: 'offers' }, items.map((o) => {
      const late = o.state === 'proposed' && Date.parse(o.due_at) < now;
      const formBox = h('div', { class: 'decline-box' });
      return h('li', { class: 'card offer' + (late ? ' overdue' : ''), dataset: { id: o.id, state: o.state, caseId: o.case_id } },
        h('p', {}, h('a', { href: '/console/cases/' + o.case_id, class: 'case-link mono' }, o.case_number), ' ',
          h('strong', {}, o.applicant_name || ''), ' ', h('span', { class: 'badge' + (o.state === 'proposed' ? '' : ' muted') }, OFFER_STATE_LABELS[o.state] || o.state)),
        dl([
          ['Учреждение', o.facility_name || homeName(fs, o.facility_id)],
          ['Отделение', sectionTitle(fs, o.facility_id, o.section)],
          ['Предложено', fmtDateTime(o.proposed_at)],
          ['Ответить до', o.state === 'proposed' ? h('span', { class: late ? 'due overdue' : 'due' }, fmtDateTime(o.due_at), late ? ' — срок прошёл' : '') : ''],
          ['Ответ', o.answered_at ? fmtDateTime(o.answered_at) : ''],
          ['Причина отказа', o.reason ? ((reasons.find((r) => r.code === o.reason) || {}).title || o.reason) + (o.note ? ': ' + o.note : '') : ''],
        ]),
        o.state === 'proposed' ? h('div', { class: 'buttons' },
          h('button', { type: 'button', class: 'primary accept', onclick: (e) => acceptOffer(o, e.currentTarget, box) }, 'Принять и выдать путёвку'),
          h('button', { type: 'button', class: 'decline-open', 'aria-expanded': 'false',
            onclick: (e) => { e.currentTarget.setAttribute('aria-expanded', 'true'); replace(formBox, declineForm(o, reasons, box)); formBox.querySelector('select').focus(); } },
          'Записать отказ')) : null,
        formBox);
    }));
    replace(main, head, items.length ? list : h('p', { class: 'empty' }, state === 'proposed' ? 'Предложений, ждущих ответа, нет.' : 'Предложений нет.'));
  });

  async function acceptOffer(o, button, box) {
    button.disabled = true;
    const res = await api('POST', '/api/v1/offers/' + encodeURIComponent(o.id) + '/accept');
    button.disabled = false;
    if (!res.ok) { replace(box, problemBox(res)); box.firstChild.focus(); return; }
    replace(box, flash('Путёвка выдана по делу ', h('a', { href: '/console/cases/' + o.case_id, class: 'case-link mono' }, o.case_number), '.'));
    const li = button.closest('li');
    li.dataset.state = 'accepted';
    li.querySelector('.buttons').remove();
    li.querySelector('.badge').textContent = OFFER_STATE_LABELS.accepted;
    box.firstChild.focus();
  }

  function declineForm(o, reasons, box) {
    const id = 'decline-' + o.id.slice(0, 8);
    const note = h('textarea', { id: id + '-note', maxlength: 1000, rows: 2 });
    const noteField = field(id + '-note', 'Пояснение', note);
    const reason = select(id + '-reason', [['', 'Выберите причину']].concat(reasons.map((r) => [r.code, r.title])), '', { required: true });
    const hint = h('p', { class: 'hint', id: id + '-counts' });
    const sync = () => {
      const r = reasons.find((x) => x.code === reason.value) || {};
      noteField.hidden = !r.needs_text;
      note.required = !!r.needs_text;
      hint.textContent = r.applicant_refused ? 'Отказ заявителя: после нескольких таких отказов дело уйдёт на пересмотр специалисту.' : '';
    };
    reason.addEventListener('change', sync);
    const form = h('form', { class: 'decline', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const body = { reason: reason.value };
      if (note.value.trim()) body.note = note.value.trim();
      if (!body.reason) { replace(box, h('p', { class: 'problem', role: 'alert', tabindex: '-1' }, 'Выберите причину отказа.')); reason.focus(); return; }
      const res = await api('POST', '/api/v1/offers/' + encodeURIComponent(o.id) + '/decline', { body });
      if (!res.ok) { replace(box, problemBox(res)); box.firstChild.focus(); return; }
      replace(box, flash('Отказ по делу ' + o.case_number + ' записан; место предложено следующему в очереди.'));
      const li = form.closest('li');
      li.dataset.state = 'declined';
      li.querySelector('.buttons').remove();
      li.querySelector('.badge').textContent = OFFER_STATE_LABELS.declined;
      form.remove();
      box.firstChild.focus();
    } },
    field(id + '-reason', 'Причина отказа', reason), hint, noteField,
    h('button', { type: 'submit', class: 'danger' }, 'Записать отказ'));
    sync();
    return form;
  }

  // ---- the home form -------------------------------------------------------------------------

  C.addPage(/^\/console\/homes\/([^/]+)$/, async (who, match) => {
    const id = decodeURIComponent(match[1]);
    const isNew = id === 'new';
    setTitle(isNew ? 'Новое учреждение' : 'Учреждение');
    let home = { name: '', type: REF.facility_types[0], district: '', address: '', phone: '', agency_id: '', active: true,
      sections: [{ code: 'main', title: 'Общее отделение', sex: 'any', bedridden: false, capacity: 0, occupied: 0, reserved: 0 }] };
    let etag = null;
    if (!isNew) {
      const res = await api('GET', '/api/v1/facilities/' + encodeURIComponent(id));
      if (!res.ok) { replace(main, h('h1', {}, 'Учреждение'), problemBox(res)); return; }
      home = res.data;
      etag = res.etag;
    }
    if (!MANAGERS.has(who.role)) {
      replace(main, h('h1', {}, home.name || 'Учреждение'), h('p', { class: 'problem', role: 'alert' },
        'Учреждения добавляют и изменяют руководители и администраторы.'), h('a', { href: '/console/beds' }, 'К местам в учреждениях'));
      return;
    }
    renderHomeForm(home, etag, isNew);
  });

  function sectionRow(s, i, existing) {
    const p = 'sec-' + i + '-';
    const row = h('tr', { class: 'section-row', dataset: { existing: existing ? 'true' : 'false' } },
      cell('Код', h('input', { id: p + 'code', class: 'sec-code', value: s.code, required: true, maxlength: 32, pattern: '[a-z0-9_\\-]+',
        readonly: existing, 'aria-label': 'Код отделения', autocomplete: 'off' })),
      cell('Название', h('input', { id: p + 'title', class: 'sec-title', value: s.title, required: true, maxlength: 200, 'aria-label': 'Название отделения' })),
      cell('Принимает', select(p + 'sex', Object.entries(SEX_LABELS), s.sex, { class: 'sec-sex', 'aria-label': 'Кого принимает отделение' })),
      cell('Для лежачих', h('input', { type: 'checkbox', id: p + 'bedridden', class: 'sec-bedridden', checked: !!s.bedridden, 'aria-label': 'Отделение для лежачих' })),
      cell('Мест', h('input', { type: 'number', id: p + 'capacity', class: 'sec-capacity', min: 0, max: 100000, value: String(s.capacity || 0),
        required: true, inputmode: 'numeric', 'aria-label': 'Мест в отделении' }),
      existing ? h('span', { class: 'muted small' }, ' занято ' + (s.occupied || 0) + ', в резерве ' + (s.reserved || 0)) : null),
      h('td', { class: 'row-action' }, existing ? null : h('button', { type: 'button', class: 'small-button', 'aria-label': 'Убрать отделение',
        onclick: (e) => e.currentTarget.closest('tr').remove() }, 'Убрать')));
    return row;
  }

  function renderHomeForm(home, etag, isNew) {
    const box = h('div', { id: 'home-result' });
    const rows = h('tbody', { id: 'home-sections' }, (home.sections || []).map((s, i) => sectionRow(s, i, !isNew)));
    let n = rows.children.length;
    const input = (id, value, attrs) => h('input', Object.assign({ id, name: id, value: value || '' }, attrs || {}));
    const form = h('form', { class: 'card', id: 'home-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const v = (sel) => form.querySelector(sel).value.trim();
      const body = { name: v('#home-name'), type: v('#home-type'), district: v('#home-district'), address: v('#home-address'),
        phone: v('#home-phone') };
      const agency = v('#home-agency');
      if (agency) body.agency_id = agency;
      body.sections = [...rows.querySelectorAll('tr')].map((tr) => ({
        code: tr.querySelector('.sec-code').value.trim(), title: tr.querySelector('.sec-title').value.trim(),
        sex: tr.querySelector('.sec-sex').value, bedridden: tr.querySelector('.sec-bedridden').checked,
        capacity: parseInt(tr.querySelector('.sec-capacity').value, 10) || 0,
      }));
      if (!body.name) { replace(box, h('p', { class: 'problem', role: 'alert', tabindex: '-1' }, 'Укажите название учреждения.')); form.querySelector('#home-name').focus(); return; }
      if (!body.sections.length) { replace(box, h('p', { class: 'problem', role: 'alert', tabindex: '-1' }, 'Нужно хотя бы одно отделение.')); return; }
      if (!isNew) body.active = form.querySelector('#home-active').checked;
      const res = isNew ? await api('POST', '/api/v1/facilities', { body })
        : await api('PATCH', '/api/v1/facilities/' + encodeURIComponent(home.id), { body, headers: { 'If-Match': etag } });
      if (!res.ok) {
        replace(box, problemBox(res));
        for (const r of (res.problem && res.problem.reasons) || []) {
          const m = /^sections\[(\d+)\]\.(\w+)$/.exec(r.field || '');
          const el = m ? rows.querySelectorAll('tr')[+m[1]] && rows.querySelectorAll('tr')[+m[1]].querySelector('.sec-' + m[2])
            : form.querySelector('#home-' + (r.field || '').replace('agency_id', 'agency'));
          if (el) el.setAttribute('aria-invalid', 'true');
        }
        box.firstChild.focus();
        return;
      }
      if (isNew) { history.replaceState(null, '', '/console/homes/' + res.data.id); }
      renderHomeForm(res.data, res.etag, false);
      const done = document.getElementById('home-result');
      replace(done, flash(isNew ? 'Учреждение добавлено.' : 'Изменения сохранены.', ' ', h('a', { href: '/console/beds' }, 'К местам в учреждениях')));
      done.firstChild.focus();
    } },
    h('div', { class: 'row' },
      field('home-name', 'Название', input('home-name', home.name, { required: true, maxlength: 300 })),
      field('home-type', 'Тип учреждения', select('home-type', REF.facility_types.map((t) => [t, typeLabel(t)]), home.type)),
      field('home-district', 'Район', input('home-district', home.district, { maxlength: 200 }))),
    h('div', { class: 'row' },
      field('home-address', 'Адрес', input('home-address', home.address, { maxlength: 500, autocomplete: 'off' })),
      field('home-phone', 'Телефон', input('home-phone', home.phone, { maxlength: 50, type: 'tel', autocomplete: 'off' })),
      field('home-agency', 'Организация, которая сообщает о местах', input('home-agency', home.agency_id, { autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
        'Идентификатор организации-партнёра вида «учреждение»; его сообщает администратор.')),
    isNew ? null : h('div', { class: 'field check' }, h('input', { type: 'checkbox', id: 'home-active', checked: !!home.active }),
      h('label', { for: 'home-active' }, 'Принимает по путёвкам')),
    h('fieldset', {}, h('legend', {}, 'Отделения'),
      h('p', { class: 'hint' }, 'Мест не может стать меньше, чем занято и зарезервировано: такое изменение не будет принято.'),
      h('div', { class: 'table-scroll' }, h('table', { class: 'cases sections-edit' },
        h('thead', {}, h('tr', {}, ['Код', 'Название', 'Принимает', 'Для лежачих', 'Мест', ''].map((t) => h('th', { scope: 'col' }, t)))), rows)),
      h('button', { type: 'button', id: 'section-add', onclick: () => {
        const r = sectionRow({ code: '', title: '', sex: 'any', bedridden: false, capacity: 0 }, n++, false);
        rows.appendChild(r);
        r.querySelector('.sec-code').focus();
      } }, 'Добавить отделение')),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, isNew ? 'Добавить учреждение' : 'Сохранить'),
      h('a', { href: '/console/beds' }, 'Отмена')),
    box);
    setTitle(isNew ? 'Новое учреждение' : home.name);
    replace(main, h('p', { class: 'crumbs' }, h('a', { href: '/console/beds' }, 'Места в учреждениях')),
      h('h1', {}, isNew ? 'Новое учреждение' : home.name),
      isNew ? null : h('p', { class: 'muted' }, 'Свободно мест: ' + home.free_beds + ' из ' + home.capacity +
        (home.reported_at ? '. Последний отчёт: ' + fmtDateTime(home.reported_at) : '. Отчётов о местах не было') + '.'),
      form);
  }

  // ---- the case page's placement panel -------------------------------------------------------

  const PANEL_STATES = new Set(['under_review', 'waiting_list', 'voucher_issued', 'transfer_pending']);
  const EDITABLE_STATES = new Set(['under_review', 'waiting_list', 'voucher_issued']);

  C.addCaseSection((st) => {
    const c = st.c;
    if (!PANEL_STATES.has(c.state)) return null;
    const body = h('div', { id: 'placement-body' }, h('p', { class: 'muted' }, 'Загрузка…'));
    const sec = section('h-placement-panel', 'Очередь и предложения', body);
    fillPanel(st, body);
    return sec;
  });

  async function fillPanel(st, body) {
    const c = st.c;
    const [pr, offers, fs, prios] = await Promise.all([
      api('GET', '/api/v1/cases/' + encodeURIComponent(c.id) + '/placement'),
      api('GET', '/api/v1/offers?case_id=' + encodeURIComponent(c.id)), facilities(), priorities()]);
    if (!pr.ok) { replace(body, problemBox(pr)); return; }
    const p = pr.data.placement;
    const mine = offers.ok ? offers.data.items || [] : [];
    const box = h('div', { id: 'placement-result' });
    const editBox = h('div', { id: 'placement-edit-box' });
    const parts = waitingParts(pr.data);
    const estimates = parts.map((w) => [
      w.estimate_basis && w.estimate_basis.preferences === false && parts.length > 1 ? 'Ожидание, если любое учреждение' : 'Ожидание',
      estimateText(w)]);
    const prioTitle = (code) => (prios.find((x) => x.code === code) || {}).title || code;
    replace(body,
      p ? dl([
        ['Место в очереди', c.waiting_position ? h('strong', { id: 'placement-position' }, String(c.waiting_position)) : ''],
        ['Приоритет', h('span', { id: 'placement-priority' }, prioTitle(p.priority))],
        ['Нужно', needText(c.applicant && c.applicant.gender === 'male' ? 'male' : 'female', p.bedridden)],
        ['Пожелания', h('span', { id: 'placement-preferences' }, preferencesText(p, fs))],
      ].concat(estimates, [
        ['Отказы заявителя', p.refusals ? String(p.refusals) : ''],
        ['Пересмотр', p.review ? h('span', { class: 'badge danger' }, 'нужен пересмотр специалистом') : ''],
      ])) : h('p', { class: 'muted' }, 'Очерёдность ещё не задана: она задаётся при признании нуждающимся.'),
      mine.length ? [h('h3', {}, 'Предложения мест'), h('ul', { class: 'case-offers', id: 'case-offers' }, mine.map((o) => h('li', { dataset: { state: o.state } },
        h('strong', {}, o.facility_name || homeName(fs, o.facility_id)), ', ' + sectionTitle(fs, o.facility_id, o.section) + ': ',
        OFFER_STATE_LABELS[o.state] || o.state, ' (' + fmtDate(o.proposed_at) + ')',
        o.state === 'proposed' ? [' ', h('a', { href: '/console/offers' }, 'ответить')] : null)))] : null,
      EDITABLE_STATES.has(c.state) ? h('button', { type: 'button', id: 'placement-edit-open', 'aria-controls': 'placement-edit-box',
        onclick: () => { replace(editBox, placementForm(st, p, fs, prios, box)); editBox.querySelector('select').focus(); } },
      p ? 'Изменить очерёдность и пожелания' : 'Задать очерёдность и пожелания') : null,
      editBox, box);
  }

  function placementForm(st, p, fs, prios, box) {
    const c = st.c;
    p = p || { priority: 'general', bedridden: false, districts: [], facility_ids: [] };
    const homes = fs.filter((f) => f.type === c.facility_type && f.active);
    const check = (name, value, label, checked) => h('label', { class: 'choice-line' },
      h('input', { type: 'checkbox', name, value, checked }), ' ' + label);
    const form = h('form', { id: 'placement-form', class: 'placement-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const picked = (name) => [...form.querySelectorAll('input[name="' + name + '"]:checked')].map((x) => x.value);
      const res = await api('PUT', '/api/v1/cases/' + encodeURIComponent(c.id) + '/placement', {
        body: { priority: form.querySelector('#pl-priority').value, bedridden: form.querySelector('#pl-bedridden').checked,
          districts: picked('pl-district'), facility_ids: picked('pl-home') },
        headers: { 'If-Match': st.etag } });
      if (!res.ok) { replace(box, problemBox(res)); box.firstChild.focus(); return; }
      await C.reloadCase(c.id);
    } },
    field('pl-priority', 'Приоритет', select('pl-priority', prios.map((x) => [x.code, x.title]), p.priority)),
    h('div', { class: 'field check' }, h('input', { type: 'checkbox', id: 'pl-bedridden', checked: !!p.bedridden }),
      h('label', { for: 'pl-bedridden' }, 'Нужно место для лежачих')),
    h('fieldset', {}, h('legend', {}, 'Районы (не выбрано — любой)'),
      districtsOf(homes).map((d) => check('pl-district', d, d, (p.districts || []).includes(d)))),
    h('fieldset', {}, h('legend', {}, 'Учреждения (не выбрано — любое этого типа)'),
      homes.map((f) => check('pl-home', f.id, f.name + (f.district ? ' (' + f.district + ')' : ''), (p.facility_ids || []).includes(f.id)))),
    h('p', { class: 'hint' }, 'Чем уже пожелания, тем дольше может быть ожидание. Дата признания нуждающимся при изменении не меняется.'),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Сохранить')));
    return form;
  }
})();

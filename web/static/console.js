// console.js: the specialists' console. Three views on one shell, chosen by the path:
//   /console             case list with filters and keyset paging (filters live in the URL)
//   /console/cases/{id}  everything about one case, its documents, deadlines, history and events
//   /console/new         register a case; shows its number and the one-time access code
//   /console/follow-ups  the call-backs promised on the hotline and still owed
//   /console/leads       the outreach leads' triage queue, with convert into a case
//   /console/contact-requests  relatives' requests to reach a resident, and their outcomes
// The bearer token is pasted once and kept in sessionStorage (gone when the tab closes).
(function () {
  'use strict';
  const { h, replace, fmtDate, fmtDue, fmtDateTime, today, request, problemBox } = window.carepath;
  const REF = window.CAREPATH_REF;
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  const TOKEN_KEY = 'carepath.token';
  const PAGE_SIZE = 50;

  // Labels the domain does not carry (state and document names come from REF, i.e. the domain).
  const EVENT_LABELS = {
    request_documents: 'Запросить документы',
    submit_for_review: 'Передать на рассмотрение',
    return_for_documents: 'Вернуть на досбор документов',
    recognize_need: 'Признать нуждающимся',
    reject: 'Отказать',
    appeal: 'Обжалование отказа',
    issue_voucher: 'Выдать путёвку',
    cancel_voucher: 'Аннулировать путёвку',
    admit: 'Поступление в учреждение',
    start_leave: 'Временное выбытие',
    end_leave: 'Возвращение из временного выбытия',
    hospitalize: 'Госпитализация',
    end_hospitalization: 'Выписка из больницы',
    request_transfer: 'Заявление о переводе',
    discharge: 'Выбытие из учреждения',
    record_death: 'Зарегистрировать смерть',
    withdraw: 'Отзыв заявления',
    register: 'Регистрация заявления',
    record_document: 'Отметка о документе',
    reassign: 'Передача дела другому специалисту',
    rotate_access_code: 'Выдан новый код доступа',
    set_placement: 'Изменены очерёдность и пожелания',
    decline_offer: 'Отказ от предложенного места',
    offer_expired: 'Предложение места истекло без ответа',
  };
  // Events that end something for the family: shown in red, so no one presses them by habit.
  const DANGER = new Set(['reject', 'withdraw', 'record_death', 'discharge', 'cancel_voucher']);
  const FACILITY_TYPE_LABELS = {
    elderly_disabled: 'Дом-интернат для престарелых и инвалидов',
    psychoneurological: 'Психоневрологический интернат',
    veterans: 'Дом ветеранов',
  };
  // In the list, where space is short.
  const FACILITY_TYPE_SHORT = { elderly_disabled: 'Для престарелых и инвалидов', psychoneurological: 'ПНИ', veterans: 'Дом ветеранов' };
  // Relations are free text; the API's examples use English words, shown here in Russian.
  const RELATION_LABELS = {
    son: 'сын', daughter: 'дочь', wife: 'жена', husband: 'муж', spouse: 'супруг(а)', brother: 'брат', sister: 'сестра',
    grandson: 'внук', granddaughter: 'внучка', nephew: 'племянник', niece: 'племянница', guardian: 'опекун',
    representative: 'представитель', neighbour: 'сосед(ка)', neighbor: 'сосед(ка)', other: 'другое',
  };
  const CHANNEL_LABELS = {
    mfc: 'МФЦ', hotline: 'Горячая линия', online: 'Онлайн', post_office: 'Почта', outreach: 'Выездное обследование',
  };
  const DOC_STATUS_LABELS = {
    missing: 'нет', requested: 'запрошен', received: 'получен', rejected: 'отклонён', expired: 'срок истёк',
  };
  const DEADLINE_KIND_LABELS = {
    document_collection: 'Сбор документов',
    review_decision: 'Решение о признании нуждающимся',
    ippsu: 'Составление ИППСУ',
    voucher_admission: 'Поступление по путёвке',
    leave_return: 'Возвращение из временного выбытия',
    ippsu_review: 'Пересмотр ИППСУ',
    document_expiry: 'Истечение срока документа',
    guardianship_notice: 'Уведомление органа опеки',
    contact_follow_up: 'Обратный звонок',
    contact_request: 'Ответ учреждения о связи с проживающим',
  };
  const HAPPENING_LABELS = Object.fromEntries((REF.happenings || []).map((x) => [x.name, x.label]));
  const AUDIENCE_LABELS = {
    relative: 'родственник', representative: 'законный представитель', guardianship: 'орган опеки',
    health: 'медицинская организация', facility: 'учреждение', specialist: 'специалист', supervisor: 'руководитель',
  };
  const ROLE_LABELS = { specialist: 'специалист', supervisor: 'руководитель', admin: 'администратор', system: 'система' };
  const DELIVERY_CHANNEL_LABELS = { sms: 'SMS', email: 'эл. почта', webhook: 'вебхук' };
  const NOTICE_STATUS_LABELS = {
    pending: 'ожидает', sending: 'отправляется', delivered: 'доставлено', failed: 'ошибка, будет повтор', dead: 'не доставлено',
    cancelled: 'отменено: согласие отозвано',
  };
  const DEADLINE_STATE_LABELS = {
    open: 'в срок', overdue: 'просрочен', met: 'выполнен', missed: 'пропущен', cancelled: 'отменён',
  };
  const LEGAL_CAPACITY_LABELS = { capable: 'дееспособен', limited: 'ограниченно дееспособен', incapacitated: 'недееспособен' };
  const DISABILITY_LABELS = { none: 'нет', 1: 'I группа', 2: 'II группа', 3: 'III группа' };
  const NOTICE_CHANNEL_LABELS = { sms: 'SMS', email: 'Эл. почта', none: 'Не уведомлять' };
  const GENDER_LABELS = { female: 'женский', male: 'мужской' };
  const SUPPLIER_LABELS = {
    applicant: 'заявитель', health: 'медицинская организация', guardianship: 'орган опеки', court: 'суд',
    social_protection: 'соцзащита',
  };
  const PAYLOAD_LABELS = {
    reason: 'Причина', ippsu_number: 'Номер ИППСУ', ippsu_date: 'Дата ИППСУ', facility_id: 'Учреждение',
    valid_until: 'Действительна до', admitted_on: 'Дата поступления', return_by: 'Вернуться до',
    date_of_death: 'Дата смерти', released_facility_id: 'Освобождено место в', previous_facility_id: 'Прежнее учреждение',
    type: 'Документ', status: 'Статус', channel: 'Канал обращения',
  };
  const PAYLOAD_FORMATS = {}; // key → (value) => text, for values other scripts' events record
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // The fields each event needs (issue 3, "Event data fields").
  const FIELDS = {
    reason: { label: 'Причина', kind: 'textarea', required: true },
    ippsu_number: { label: 'Номер ИППСУ', kind: 'text', required: true },
    ippsu_date: { label: 'Дата ИППСУ', kind: 'date', required: true, max: 'today' },
    facility_id: { label: 'Учреждение', kind: 'facility', required: true },
    valid_until: { label: 'Путёвка действительна до', kind: 'date', hint: 'По умолчанию — срок действия путёвки по правилам центра.' },
    admitted_on: { label: 'Дата поступления', kind: 'date', required: true, value: 'today', max: 'today' },
    return_by: { label: 'Планируемая дата возвращения', kind: 'date', required: true },
    date_of_death: { label: 'Дата смерти', kind: 'date', required: true, max: 'today' },
  };
  const EVENT_FIELDS = {
    return_for_documents: ['reason'],
    reject: ['reason'],
    discharge: ['reason'],
    recognize_need: ['ippsu_number', 'ippsu_date'],
    issue_voucher: ['facility_id', 'valid_until'],
    admit: ['admitted_on'],
    start_leave: ['return_by'],
    record_death: ['date_of_death'],
  };

  const stateOf = Object.fromEntries(REF.states.map((s) => [s.name, s]));
  const eventOf = Object.fromEntries(REF.events.map((e) => [e.name, e]));
  const docOf = Object.fromEntries(REF.doc_types.map((d) => [d.type, d]));
  const stateLabel = (s) => (stateOf[s] ? stateOf[s].label : s || '—');
  const docLabel = (t) => (docOf[t] ? docOf[t].label : t);
  // The words about a document agree with its name's gender («справка получена»).
  const docStatusWord = (t, s) => ((REF.doc_status_words || {})[t] || {})[s] || DOC_STATUS_LABELS[s] || s;
  const eventLabel = (e) => EVENT_LABELS[e] || e;

  // ---- token and API -------------------------------------------------------------------------

  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
  class SignedOut extends Error {}

  // api is request() with the specialist's token; a 401 sends them back to the token form.
  async function api(method, path, opts) {
    opts = Object.assign({}, opts);
    opts.headers = Object.assign({ Authorization: 'Bearer ' + token() }, opts.headers || {});
    const res = await request(method, path, opts);
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin('Токен не принят или больше не действует. Вставьте действующий токен.');
      throw new SignedOut();
    }
    return res;
  }

  // me is who holds the token (GET /api/v1/me), asked once per page.
  let mePromise = null;
  async function me() {
    if (!mePromise) {
      mePromise = api('GET', '/api/v1/me').then((res) => {
        if (!res.ok) { mePromise = null; throw new Error('не удалось узнать, кто вошёл'); }
        return res.data;
      });
    }
    return mePromise;
  }

  let facilitiesPromise = null;
  function facilities() {
    if (!facilitiesPromise) {
      facilitiesPromise = api('GET', '/api/v1/facilities').then((r) => (r.ok ? r.data.items : []));
      facilitiesPromise.catch(() => { facilitiesPromise = null; });
    }
    return facilitiesPromise;
  }

  // ---- small builders ------------------------------------------------------------------------

  function field(id, label, input, hint) {
    if (hint) input.setAttribute('aria-describedby', id + '-hint');
    return h('div', { class: 'field' }, h('label', { for: id }, label), input,
      hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null);
  }

  function select(id, options, value, attrs) {
    return h('select', Object.assign({ id, name: id }, attrs || {}),
      options.map(([v, l, extra]) => h('option', Object.assign({ value: v, selected: v === value }, extra || {}), l)));
  }

  // cell is a table cell whose content is one block, so that on a phone, where each row becomes
  // a card of label/value lines, the value stays in one piece beside its label.
  function cell(label, ...content) {
    return h('td', { 'data-label': label }, h('div', { class: 'cell' }, ...content));
  }

  function dl(rows) {
    return h('dl', { class: 'facts' }, rows.filter((r) => r && r[1] !== undefined && r[1] !== null && r[1] !== '')
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  function section(id, title, ...children) {
    return h('section', { class: 'card', id: id.replace(/^h-/, ''), 'aria-labelledby': id }, h('h2', { id }, title), ...children);
  }

  function stateBadge(state, id) {
    return h('span', { class: 'state state-' + state, id, dataset: { state } }, stateLabel(state));
  }

  function setTitle(t) { document.title = t + ' — консоль специалиста'; }

  // ---- login ---------------------------------------------------------------------------------

  function showLogin(message) {
    nav.hidden = true;
    setTitle('Вход');
    const input = h('input', { id: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' });
    const msg = h('div', { id: 'login-message' }, message ? h('p', { class: 'problem', role: 'alert' }, message) : null);
    const button = h('button', { type: 'submit', class: 'primary' }, 'Войти');
    const form = h('form', {
      class: 'card', id: 'login-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const t = input.value.trim();
        if (!t) { replace(msg, h('p', { class: 'problem', role: 'alert' }, 'Вставьте токен.')); input.focus(); return; }
        button.disabled = true;
        const res = await request('GET', '/api/v1/me', { headers: { Authorization: 'Bearer ' + t } });
        button.disabled = false;
        if (res.status === 401) {
          replace(msg, h('p', { class: 'problem', role: 'alert' }, 'Токен не принят. Проверьте, что он скопирован целиком.'));
          input.select();
          return;
        }
        if (!res.ok) { replace(msg, problemBox(res)); return; }
        if (res.data.kind === 'agency') {
          replace(msg, h('p', { class: 'problem', role: 'alert', id: 'agency-key' },
            'Это ключ организации-партнёра, а не личный токен сотрудника центра. Ключ организации работает только ' +
            'в её программе, через интерфейс обмена данными. Для входа в консоль нужен личный токен: его выдаёт администратор центра.'));
          input.select();
          return;
        }
        sessionStorage.setItem(TOKEN_KEY, t);
        mePromise = Promise.resolve(res.data);
        route();
      },
    },
    h('h1', {}, 'Вход в консоль'),
    field('token', 'Токен доступа', input, 'Токен выдаёт администратор. Он хранится только в этой вкладке браузера, пока она открыта.'),
    button, msg);
    replace(main, h('div', { class: 'narrow' }, form));
    input.focus();
  }

  // ---- my cases ------------------------------------------------------------------------------

  // myCasesPage lists the signed-in specialist's cases by their next due date, overdue first
  // (the deadline board is soonest first), then their cases without an open deadline.
  async function myCasesPage(who) {
    setTitle('Мои дела');
    const [dl, list] = await Promise.all([
      api('GET', '/api/v1/deadlines?limit=500&assignee=' + encodeURIComponent(who.id)),
      api('GET', '/api/v1/cases?limit=200&assignee=' + encodeURIComponent(who.id)),
    ]);
    if (!dl.ok || !list.ok) { replace(main, h('h1', {}, 'Мои дела'), problemBox(dl.ok ? list : dl)); return; }
    const rows = new Map();
    for (const d of dl.data.items || dl.data) {
      if (!rows.has(d.case_id)) rows.set(d.case_id, { id: d.case_id, number: d.case_number, state: d.case_state, name: d.applicant_name, due: d, overdue: d.state === 'overdue' });
      else if (d.state === 'overdue') rows.get(d.case_id).overdue = true;
    }
    const due = [...rows.values()].sort((a, b) => (b.overdue - a.overdue) || String(a.due.due_at).localeCompare(String(b.due.due_at)));
    const rest = (list.data.items || []).filter((c) => !rows.has(c.id)).map((c) => ({ id: c.id, number: c.number, state: c.state, name: c.applicant_name }));
    const all = due.concat(rest);
    replace(main,
      h('h1', {}, 'Мои дела'),
      h('p', { class: 'muted' }, 'Сначала просроченные, затем по ближайшему сроку; ниже — дела без открытых сроков.'),
      all.length ? h('table', { class: 'cases', id: 'my-cases' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Номер'), h('th', {}, 'Заявитель'), h('th', {}, 'Состояние'), h('th', {}, 'Ближайший срок'))),
        h('tbody', {}, all.map((r) => h('tr', { class: r.overdue ? 'overdue' : null, dataset: { id: r.id } },
          h('td', {}, h('a', { href: '/console/cases/' + r.id, class: 'case-link mono' }, r.number)),
          h('td', {}, r.name || ''),
          h('td', {}, stateBadge(r.state)),
          h('td', {}, r.due ? [(DEADLINE_KIND_LABELS[r.due.kind] || 'срок') + ': до ', h('strong', {}, r.due.due_on ? fmtDate(r.due.due_on) : fmtDue(r.due.due_at)),
            r.overdue ? h('span', { class: 'badge danger' }, 'просрочен') : null] : '—')))))
        : h('p', { class: 'empty' }, 'За вами пока нет дел.'));
  }

  // ---- administration ------------------------------------------------------------------------

  const AGENCY_KIND_LABELS = {
    mfc: 'МФЦ', health: 'Медицинская организация', guardianship: 'Орган опеки', facility: 'Учреждение',
    social_protection: 'Социальная защита', post_office: 'Почта',
  };

  // adminPage is what an administrator sees on signing in: the people and the partner
  // organisations with access, and the notification queues.
  async function adminPage(who) {
    setTitle('Администрирование');
    nav.hidden = false;
    for (const a of nav.querySelectorAll('a')) a.hidden = true;
    const [users, agencies] = await Promise.all([api('GET', '/api/v1/users'), api('GET', '/api/v1/agencies')]);
    replace(main,
      h('h1', {}, 'Администрирование'),
      h('p', { class: 'muted' }, 'Вы вошли как ', h('strong', {}, who.name), ' (администратор). Дела ведут специалисты; здесь — доступ к системе.'),
      h('section', { class: 'card', id: 'admin-users', 'aria-labelledby': 'h-users' }, h('h2', { id: 'h-users' }, 'Сотрудники'),
        users.ok ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Имя'), h('th', {}, 'Роль'), h('th', {}, 'Состояние'))),
          h('tbody', {}, (users.data.items || users.data).map((u) => h('tr', {},
            h('td', {}, u.name), h('td', {}, ROLE_LABELS[u.role] || 'сотрудник'), h('td', {}, u.disabled_at ? 'отключён' : 'действует')))))
          : problemBox(users)),
      h('section', { class: 'card', id: 'admin-agencies', 'aria-labelledby': 'h-agencies' }, h('h2', { id: 'h-agencies' }, 'Организации-партнёры'),
        agencies.ok ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Название'), h('th', {}, 'Вид'))),
          h('tbody', {}, (agencies.data.items || agencies.data).map((a) => h('tr', {},
            h('td', {}, a.name), h('td', {}, AGENCY_KIND_LABELS[a.kind] || 'организация')))))
          : problemBox(agencies)),
      h('section', { class: 'card', 'aria-labelledby': 'h-queues' }, h('h2', { id: 'h-queues' }, 'Очереди уведомлений'),
        h('p', {}, h('a', { href: '/ops/queues' }, 'Открыть монитор очередей'), ' (вход — с тем же токеном вместо пароля).')),
      h('p', {}, h('a', { href: '/console/beds', id: 'admin-beds' }, 'Учреждения и места в них')));
  }

  // ---- case list -----------------------------------------------------------------------------

  async function listPage() {
    setTitle('Дела');
    const params = new URLSearchParams(location.search);
    const f = {
      q: params.get('q') || '', state: params.get('state') || '', facility_type: params.get('facility_type') || '',
      overdue: params.get('overdue') === 'true', cursor: params.get('cursor') || '',
    };
    const form = h('form', { class: 'filters card', method: 'get', action: '/console', role: 'search', 'aria-label': 'Поиск дел' },
      field('q', 'Номер дела, ФИО или телефон', h('input', { id: 'q', name: 'q', type: 'search', value: f.q, maxlength: 200, placeholder: 'KC-2026-000001, Иванова или 8 916 123-45-67' })),
      field('state', 'Состояние', select('state', [['', 'Все состояния']].concat(REF.states.map((s) => [s.name, s.label])), f.state)),
      field('facility_type', 'Тип учреждения', select('facility_type', [['', 'Все типы']].concat(REF.facility_types.map((t) => [t, FACILITY_TYPE_LABELS[t] || t])), f.facility_type)),
      h('div', { class: 'field check' }, h('input', { type: 'checkbox', id: 'overdue', name: 'overdue', value: 'true', checked: f.overdue }),
        h('label', { for: 'overdue' }, 'Только с просроченными сроками')),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Найти'), h('a', { class: 'button', href: '/console' }, 'Сбросить')));
    const results = h('div', { id: 'results', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Загрузка…'));
    replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Дела'), h('a', { class: 'button primary', href: '/console/new' }, 'Зарегистрировать дело')), form, results);

    const q = new URLSearchParams();
    for (const k of ['q', 'state', 'facility_type', 'cursor']) if (f[k]) q.set(k, f[k]);
    if (f.overdue) q.set('overdue', 'true');
    q.set('limit', String(PAGE_SIZE));
    const res = await api('GET', '/api/v1/cases?' + q.toString());
    if (!res.ok) { replace(results, problemBox(res)); return; }
    const items = res.data.items || [];
    if (!items.length) {
      replace(results, h('p', { class: 'empty' }, f.cursor ? 'Больше дел нет.' : 'Дел по этим условиям не найдено.'),
        f.cursor ? h('a', { href: pageURL(params, '') }, '← К первой странице') : null);
      return;
    }
    const now = Date.now();
    const rows = items.map((c) => {
      const overdue = c.overdue;
      const due = c.next_due_at ? h('span', { class: overdue ? 'due overdue' : 'due' },
        fmtDue(c.next_due_at), overdue ? h('span', { class: 'badge danger' }, 'просрочено') : null) : '—';
      return h('tr', { class: overdue ? 'overdue' : null, dataset: { caseId: c.id, state: c.state } },
        cell('Номер', h('a', { href: '/console/cases/' + c.id, class: 'case-link' }, c.number)),
        cell('Заявитель', c.applicant_name),
        cell('Состояние', stateBadge(c.state)),
        cell('Учреждение', h('span', { title: FACILITY_TYPE_LABELS[c.facility_type] }, FACILITY_TYPE_SHORT[c.facility_type] || c.facility_type)),
        cell('Ближайший срок', due),
        cell('В состоянии с', fmtDate(c.state_entered_at), ' ', h('span', { class: 'muted small' }, daysSince(c.state_entered_at, now))));
    });
    replace(results,
      h('table', { class: 'cases' },
        h('caption', { class: 'sr-only' }, 'Дела'),
        h('thead', {}, h('tr', {}, ['Номер', 'Заявитель', 'Состояние', 'Учреждение', 'Ближайший срок', 'В состоянии с'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)),
      h('nav', { class: 'pager', 'aria-label': 'Страницы' },
        h('span', { class: 'muted' }, 'На странице: ' + items.length),
        f.cursor ? h('a', { href: pageURL(params, ''), class: 'button' }, '← К первой странице') : null,
        res.data.next_cursor ? h('a', { href: pageURL(params, res.data.next_cursor), class: 'button', id: 'next-page', rel: 'next' }, 'Следующая страница →') : null));
  }

  function pageURL(params, cursor) {
    const p = new URLSearchParams(params);
    p.delete('cursor');
    if (cursor) p.set('cursor', cursor);
    const s = p.toString();
    return '/console' + (s ? '?' + s : '');
  }

  function daysSince(ts, now) {
    if (!ts) return '';
    const d = Math.floor((now - new Date(ts).getTime()) / 86400000);
    if (d < 1) return '(сегодня)';
    return '(' + d + ' дн.)';
  }

  // ---- one case ------------------------------------------------------------------------------

  async function casePage(id) {
    setTitle('Дело');
    replace(main, h('p', { class: 'muted' }, 'Загрузка дела…'));
    const [res, hist, facs, notices, contacts] = await Promise.all([
      api('GET', '/api/v1/cases/' + encodeURIComponent(id)),
      api('GET', '/api/v1/cases/' + encodeURIComponent(id) + '/history'),
      facilities(),
      api('GET', '/api/v1/cases/' + encodeURIComponent(id) + '/notices'),
      api('GET', '/api/v1/cases/' + encodeURIComponent(id) + '/contacts?limit=10'),
    ]);
    if (!res.ok) {
      replace(main, h('nav', { class: 'crumbs' }, h('a', { href: '/console' }, '← Все дела')), h('h1', {}, 'Дело'), problemBox(res));
      return;
    }
    const st = { id, c: res.data, etag: res.etag, history: hist.ok ? hist.data.items : null, facilities: facs,
      notices: notices.ok ? notices.data.items : null, contacts: contacts.ok ? contacts.data.items : null, me: await me() };
    renderCase(st);
  }

  async function reloadHistory(st) {
    const [hist, notices] = await Promise.all([
      api('GET', '/api/v1/cases/' + encodeURIComponent(st.id) + '/history'),
      api('GET', '/api/v1/cases/' + encodeURIComponent(st.id) + '/notices'),
    ]);
    st.history = hist.ok ? hist.data.items : null;
    st.notices = notices.ok ? notices.data.items : null;
  }

  function facilityName(st, id) {
    if (!id) return '';
    const f = st.facilities.find((x) => x.id === id);
    return f ? f.name : id;
  }

  // renderCase draws the whole case from st; flash is a one-line confirmation of what just
  // happened, announced to screen readers and focused.
  function renderCase(st, flash) {
    const c = st.c;
    setTitle(c.number + ' ' + c.applicant.full_name);
    const stage = stateOf[c.state] && stateOf[c.state].stage;
    const flashBox = h('div', { id: 'flash', tabindex: '-1' }, flash ? h('p', { class: 'flash', role: 'status' }, flash) : null);
    replace(main,
      h('nav', { class: 'crumbs' }, h('a', { href: '/console' }, '← Все дела')),
      h('header', { class: 'case-head' },
        h('h1', {}, h('span', { id: 'case-number' }, c.number), ' ', h('span', { class: 'applicant-name' }, c.applicant.full_name)),
        h('p', { class: 'case-state' }, stateBadge(c.state, 'case-state'),
          ' с ', fmtDateTime(c.state_entered_at),
          stage ? h('span', { class: 'muted' }, ' · этап ' + stage + ' из ' + REF.stage_count) : null,
          h('span', { class: 'muted' }, ' · версия ' + c.version))),
      flashBox,
      h('div', { class: 'case-layout' },
        h('div', { class: 'case-main' }, hotlineSection(st), actionsSection(st), checklistSection(st), historySection(st)),
        h('div', { class: 'case-side' }, deadlinesSection(st), noticesSection(st), applicantSection(c), contactsSection(c), placementSection(st),
          caseSections.map((sec) => sec(st)))));
    if (flash) flashBox.focus();
  }

  function actionsSection(st) {
    const c = st.c;
    const formBox = h('div', { id: 'event-form-box' });
    const events = c.allowed_events || [];
    const buttons = events.map((ev) => h('button', {
      type: 'button', class: DANGER.has(ev) ? 'event danger' : 'event', dataset: { event: ev }, 'aria-expanded': 'false',
      'aria-controls': 'event-form-box',
      onclick: (e) => openEventForm(st, ev, e.currentTarget, formBox),
    }, eventLabel(ev)));
    return section('h-actions', 'Действия',
      events.length ? h('div', { class: 'event-buttons' }, buttons) : h('p', { class: 'muted' }, 'Дело закрыто: действий нет.'),
      formBox);
  }

  function eventInput(st, name) {
    const def = FIELDS[name];
    const id = 'ev-' + name;
    let input;
    if (def.kind === 'textarea') {
      input = h('textarea', { id, name, rows: 3, maxlength: 2000, required: def.required });
    } else if (def.kind === 'facility') {
      const fits = st.facilities.filter((f) => f.type === st.c.facility_type);
      input = select(id, [['', 'Выберите учреждение']].concat(fits.map((f) => [f.id,
        f.name + ' — свободно ' + f.free_beds + ' из ' + f.capacity, f.free_beds > 0 ? {} : { disabled: true }])), '', { required: true });
      input.name = name;
    } else {
      input = h('input', { id, name, type: def.kind, required: def.required });
      if (def.value === 'today') input.value = today();
      if (def.max === 'today') input.max = today();
    }
    return field(id, def.label + (def.required ? '' : ' (необязательно)'), input, def.hint);
  }

  function openEventForm(st, ev, button, box) {
    replace(document.getElementById('flash'));
    main.querySelectorAll('button.event').forEach((b) => b.setAttribute('aria-expanded', String(b === button)));
    main.querySelectorAll('button.event').forEach((b) => b.classList.toggle('active', b === button));
    const def = eventOf[ev];
    const dest = def ? (def.alternative_destination && st.c.facility_id && ev === 'cancel_voucher' ? def.alternative_destination : def.destination) : '';
    const names = EVENT_FIELDS[ev] || [];
    const msg = h('div', { class: 'form-message' });
    const comment = h('textarea', { id: 'ev-comment', name: 'comment', rows: 2, maxlength: 2000 });
    const submit = h('button', { type: 'submit', class: DANGER.has(ev) ? 'primary danger' : 'primary' }, 'Выполнить: ' + eventLabel(ev));
    const form = h('form', {
      id: 'event-form', class: 'event-form', dataset: { event: ev },
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { event: ev };
        for (const n of names) {
          const v = form.elements[n].value.trim();
          if (v) body[n] = v;
        }
        if (comment.value.trim()) body.comment = comment.value.trim();
        submit.disabled = true;
        replace(msg, h('p', { class: 'muted' }, 'Отправка…'));
        const res = await api('POST', '/api/v1/cases/' + encodeURIComponent(st.id) + '/events', { body, headers: { 'If-Match': st.etag } });
        submit.disabled = false;
        if (!res.ok) {
          replace(msg, problemBox(res), res.status === 412 ? reloadButton(st) : null);
          msg.querySelector('.problem').focus();
          return;
        }
        st.c = res.data;
        st.etag = res.etag;
        await reloadHistory(st);
        if (ev === 'issue_voucher' || ev === 'cancel_voucher' || ev === 'discharge' || ev === 'record_death' || ev === 'admit') {
          facilitiesPromise = null;
          st.facilities = await facilities();
        }
        renderCase(st, eventLabel(ev) + ': выполнено. Новое состояние — «' + res.data.state_label + '».');
      },
    },
    h('h3', {}, eventLabel(ev)),
    dest ? h('p', { class: 'muted small' }, stateLabel(st.c.state) + ' → ' + stateLabel(dest)) : null,
    names.map((n) => eventInput(st, n)),
    field('ev-comment', 'Комментарий (необязательно)', comment),
    h('div', { class: 'buttons' }, submit,
      h('button', { type: 'button', onclick: () => { replace(box); button.setAttribute('aria-expanded', 'false'); button.classList.remove('active'); button.focus(); } }, 'Отмена')),
    msg);
    replace(box, form);
    const first = form.querySelector('input, select, textarea');
    if (first) first.focus();
  }

  function reloadButton(st) {
    return h('button', { type: 'button', onclick: () => casePage(st.id) }, 'Обновить дело');
  }

  function deadlinesSection(st) {
    const ds = (st.c.deadlines || []).filter((d) => d.state === 'open' || d.state === 'overdue')
      .sort((a, b) => (a.due_at < b.due_at ? -1 : 1));
    if (!ds.length) return section('h-deadlines', 'Сроки', h('p', { class: 'muted' }, 'Открытых сроков нет.'));
    return section('h-deadlines', 'Сроки',
      h('ul', { class: 'deadlines' }, ds.map((d) => h('li', { class: d.state === 'overdue' ? 'overdue' : null, dataset: { kind: d.kind, state: d.state } },
        h('span', { class: 'deadline-kind' }, deadlineLabel(d.kind), d.ref && docOf[d.ref] ? ': ' + docLabel(d.ref) : ''),
        h('span', { class: 'deadline-due' }, 'до ', h('strong', {}, d.due_on ? fmtDate(d.due_on) : fmtDue(d.due_at)), ' включительно',
          d.state === 'overdue' ? h('span', { class: 'badge danger' }, 'просрочен') : null)))));
  }

  // noticesSection shows who was told what and whether it reached them; a notice that could not
  // be delivered can be sent again once its cause is fixed.
  function noticesSection(st) {
    if (!st.notices) return section('h-notices', 'Уведомления', h('p', { class: 'problem' }, 'Уведомления загрузить не удалось.'));
    if (!st.notices.length) return section('h-notices', 'Уведомления', h('p', { class: 'muted' }, 'Уведомлений нет.'));
    const undelivered = st.notices.filter((n) => n.status === 'dead').length;
    return section('h-notices', 'Уведомления',
      undelivered ? h('p', { class: 'warning' }, 'Не доставлено: ' + undelivered + '. Проверьте адрес получателя и отправьте снова.') : null,
      h('ul', { class: 'notices' }, st.notices.map((n) => h('li', { dataset: { status: n.status, happening: n.happening } },
        h('p', {}, h('strong', {}, HAPPENING_LABELS[n.happening] || n.happening), ' → ',
          (AUDIENCE_LABELS[n.audience] || n.audience) + ', ' + (DELIVERY_CHANNEL_LABELS[n.channel] || n.channel),
          h('span', { class: n.status === 'dead' ? 'badge danger' : 'badge' }, NOTICE_STATUS_LABELS[n.status] || n.status)),
        h('p', { class: 'muted small' },
          n.delivered_at ? 'доставлено ' + fmtDateTime(n.delivered_at)
            : (n.next_attempt_at ? 'следующая попытка ' + fmtDateTime(n.next_attempt_at) : 'создано ' + fmtDateTime(n.created_at)),
          n.attempts ? ' · попыток: ' + n.attempts : ''),
        n.last_error_text && n.status !== 'delivered' ? h('p', { class: 'muted small' }, n.last_error_text) : null,
        n.status === 'dead' || n.status === 'failed'
          ? h('button', { type: 'button', onclick: async () => {
            const res = await api('POST', '/api/v1/notices/' + encodeURIComponent(n.id) + '/retry');
            if (!res.ok) { renderCase(st); return; }
            await reloadHistory(st);
            renderCase(st, 'Уведомление отправляется снова.');
          } }, 'Отправить снова')
          : null))));
  }

  function applicantSection(c) {
    const a = c.applicant || {};
    return section('h-applicant', 'Заявитель', dl([
      ['ФИО', a.full_name],
      ['Дата рождения', a.birth_date ? fmtDate(a.birth_date) + ' (' + age(a.birth_date) + ')' : ''],
      ['Пол', GENDER_LABELS[a.gender] || a.gender],
      ['СНИЛС', a.snils],
      ['Паспорт', a.passport],
      ['Адрес', a.address],
      ['Дееспособность', LEGAL_CAPACITY_LABELS[a.legal_capacity] || a.legal_capacity],
      ['Инвалидность', a.disability_group ? DISABILITY_LABELS[a.disability_group] || a.disability_group : ''],
    ]));
  }

  function age(birth) {
    const [y, m, d] = birth.split('-').map(Number);
    const [ty, tm, td] = today().split('-').map(Number);
    let n = ty - y;
    if (tm < m || (tm === m && td < d)) n--;
    const mod10 = n % 10, mod100 = n % 100;
    const word = mod10 === 1 && mod100 !== 11 ? 'год' : mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14) ? 'года' : 'лет';
    return n + ' ' + word;
  }

  function contactsSection(c) {
    const cs = c.contacts || [];
    if (!cs.length) return section('h-contacts', 'Контакты', h('p', { class: 'muted' }, 'Контактов нет.'));
    return section('h-contacts', 'Контакты', h('ul', { class: 'contacts' }, cs.map((p) => h('li', {},
      h('p', {}, h('strong', {}, p.name), p.relation ? ' — ' + (RELATION_LABELS[p.relation.toLowerCase()] || p.relation) : '',
        p.legal_representative ? h('span', { class: 'badge' }, 'законный представитель') : null),
      p.phone ? h('p', {}, 'Тел.: ', h('a', { class: 'nowrap', href: 'tel:' + p.phone.replace(/[^+\d]/g, '') }, p.phone)) : null,
      p.email ? h('p', {}, 'Эл. почта: ', h('a', { href: 'mailto:' + p.email }, p.email)) : null,
      h('p', { class: 'muted small' }, p.consent_to_notices
        ? 'Согласие на уведомления: да' + (p.preferred_channel ? ' (' + (NOTICE_CHANNEL_LABELS[p.preferred_channel] || p.preferred_channel) + ')' : '')
        : 'Согласия на уведомления нет')))));
  }

  // holderOf says who holds the case: the signed-in specialist, by the name the history gives
  // the last reassignment, or nobody yet.
  function holderOf(st) {
    const id = st.c.assignee_id;
    if (!id) return 'не назначен';
    if (st.me && st.me.id === id) return st.me.name + ' (вы)';
    const named = (st.history || []).filter((e) => e.actor_id === id && e.actor_name).pop();
    return named ? named.actor_name : 'другой специалист';
  }

  function placementSection(st) {
    const c = st.c;
    return section('h-placement', 'Размещение', dl([
      ['Тип учреждения', FACILITY_TYPE_LABELS[c.facility_type] || c.facility_type],
      ['Канал обращения', CHANNEL_LABELS[c.channel] || c.channel],
      ['Ведёт дело', h('span', { id: 'case-holder' }, holderOf(st))],
      ['Зарегистрировано', fmtDateTime(c.created_at)],
      ['ИППСУ', c.ippsu ? '№ ' + c.ippsu.number + ' от ' + fmtDate(c.ippsu.date) : ''],
      ['Место в очереди', c.waiting_position ? String(c.waiting_position) : ''],
      ['Путёвка в', facilityName(st, c.voucher_facility_id)],
      ['Путёвка действительна до', fmtDate(c.voucher_valid_until)],
      ['Учреждение', facilityName(st, c.facility_id)],
      ['Вернуться из выбытия до', fmtDate(c.leave_return_by)],
    ]));
  }

  function checklistSection(st) {
    const c = st.c;
    const box = h('div', { id: 'doc-form-box' });
    const closed = stateOf[c.state] && stateOf[c.state].terminal;
    const items = c.checklist || [];
    const received = items.filter((d) => d.required && d.status === 'received').length;
    const required = items.filter((d) => d.required).length;
    const rows = items.map((d) => h('tr', { class: 'doc-' + d.status, dataset: { doc: d.type, status: d.status } },
      cell('Документ',
        h('span', { class: 'doc-name' }, docLabel(d.type)), d.required ? '' : h('span', { class: 'muted small' }, ' (необязательный)'),
        h('span', { class: 'doc-meta muted small' }, 'выдаёт: ' + (SUPPLIER_LABELS[d.supplier] || d.supplier || '—')),
        d.note ? h('span', { class: 'doc-note small' }, d.note) : null),
      cell('Статус', h('span', { class: 'doc-status status-' + d.status }, docStatusWord(d.type, d.status))),
      cell('Выдан', fmtDate(d.issued_on) || '—'),
      cell('Действует до', fmtDate(d.valid_until) || '—'),
      h('td', { class: 'row-action' }, closed ? null : h('button', {
        type: 'button', class: 'small-button', dataset: { editDoc: d.type }, 'aria-controls': 'doc-form-box',
        'aria-label': 'Отметить документ: ' + docLabel(d.type),
        onclick: (e) => openDocForm(st, d, e.currentTarget, box),
      }, 'Отметить'))));
    return h('section', { class: 'card', id: 'checklist', 'aria-labelledby': 'h-checklist' },
      h('h2', { id: 'h-checklist' }, 'Документы ', h('span', { class: 'muted small' }, 'получено ' + received + ' из ' + required + ' обязательных')),
      h('div', { class: 'table-scroll' }, h('table', { class: 'checklist' },
        h('thead', {}, h('tr', {}, ['Документ', 'Статус', 'Выдан', 'Действует до', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))),
      box);
  }

  function openDocForm(st, d, button, box) {
    const msg = h('div', { class: 'form-message' });
    const status = select('doc-status', REF.doc_recordable.map((s) => [s, DOC_STATUS_LABELS[s] || s]), d.status === 'missing' || d.status === 'expired' ? 'received' : d.status);
    const issued = h('input', { id: 'doc-issued', name: 'issued_on', type: 'date', max: today(), value: d.issued_on || '' });
    const valid = h('input', { id: 'doc-valid', name: 'valid_until', type: 'date', value: d.valid_until || '' });
    const note = h('textarea', { id: 'doc-note', name: 'note', rows: 2, maxlength: 2000 }, d.note || '');
    const medical = docOf[d.type] && docOf[d.type].medical;
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Сохранить');
    const form = h('form', {
      id: 'doc-form', class: 'event-form', dataset: { doc: d.type },
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { status: status.value };
        if (issued.value) body.issued_on = issued.value;
        if (valid.value) body.valid_until = valid.value;
        if (note.value.trim()) body.note = note.value.trim();
        submit.disabled = true;
        const res = await api('PUT', '/api/v1/cases/' + encodeURIComponent(st.id) + '/documents/' + encodeURIComponent(d.type),
          { body, headers: { 'If-Match': st.etag } });
        submit.disabled = false;
        if (!res.ok) {
          replace(msg, problemBox(res), res.status === 412 ? reloadButton(st) : null);
          return;
        }
        st.c = res.data;
        st.etag = res.etag;
        await reloadHistory(st);
        const now = (res.data.checklist || []).find((x) => x.type === d.type);
        renderCase(st, '«' + docLabel(d.type) + '» — ' + docStatusWord(d.type, now ? now.status : body.status) + '.');
      },
    },
    h('h3', {}, docLabel(d.type)),
    field('doc-status', 'Статус', status),
    h('div', { class: 'row' },
      field('doc-issued', 'Дата выдачи', issued),
      field('doc-valid', 'Действует до', valid, medical ? 'Если не указать, срок рассчитается по правилам для этого документа.' : null)),
    field('doc-note', 'Примечание', note),
    h('div', { class: 'buttons' }, submit, h('button', { type: 'button', onclick: () => { replace(box); button.focus(); } }, 'Отмена')),
    msg);
    replace(box, form);
    status.focus();
    form.scrollIntoView({ block: 'nearest' });
  }

  function historySection(st) {
    if (!st.history) return h('section', { class: 'card', id: 'history', 'aria-labelledby': 'h-history' }, h('h2', { id: 'h-history' }, 'История'), h('p', { class: 'problem' }, 'Историю загрузить не удалось.'));
    const items = st.history.slice().reverse();
    return h('section', { class: 'card', id: 'history', 'aria-labelledby': 'h-history' },
      h('h2', { id: 'h-history' }, 'История ', h('span', { class: 'muted small' }, 'сначала новые')),
      h('ol', { class: 'timeline', reversed: true }, items.map((e) => h('li', { dataset: { event: e.event, version: String(e.version) } },
        h('p', { class: 'timeline-head' },
          h('time', { datetime: e.at }, fmtDateTime(e.at)), ' ',
          h('strong', {}, eventLabel(e.event)),
          e.from && e.from !== e.to ? h('span', { class: 'muted' }, ' ' + stateLabel(e.from) + ' → ' + stateLabel(e.to)) : null),
        h('p', { class: 'muted small' }, (e.actor_role === 'system' || !e.actor_name ? 'система' : e.actor_name + (e.actor_role ? ' · ' + (ROLE_LABELS[e.actor_role] || 'сотрудник') : '')) + ' · версия ' + e.version),
        e.comment ? h('p', { class: 'comment' }, e.comment) : null,
        payloadList(st, e.payload)))));
  }

  function payloadList(st, p) {
    if (!p) return null;
    // Only what has a Russian name is shown: an id without a name says nothing to a person.
    const rows = Object.entries(p).filter(([k, v]) => PAYLOAD_LABELS[k] && (k.endsWith('facility_id') || !UUID_RE.test(String(v)))).map(([k, v]) => {
      let shown = String(v);
      if (k.endsWith('facility_id')) shown = facilityName(st, v);
      else if (k === 'type') shown = docLabel(v);
      else if (k === 'status') shown = DOC_STATUS_LABELS[v] || v;
      else if (k === 'channel') shown = CHANNEL_LABELS[v] || v;
      else if (PAYLOAD_FORMATS[k]) shown = PAYLOAD_FORMATS[k](v);
      else if (/^\d{4}-\d{2}-\d{2}$/.test(shown)) shown = fmtDate(shown);
      return [PAYLOAD_LABELS[k], shown];
    });
    return rows.length ? dl(rows) : null;
  }

  // ---- register a case -----------------------------------------------------------------------

  function newCasePage() {
    setTitle('Новое дело');
    const msg = h('div', { id: 'new-case-message' });
    const contacts = h('div', { id: 'contacts' });
    let contactN = 0;
    const addContact = () => {
      const n = contactN++;
      const id = (k) => 'contact-' + n + '-' + k;
      const fs = h('fieldset', { class: 'contact', dataset: { n: String(n) } },
        h('legend', {}, 'Контакт'),
        h('div', { class: 'row' },
          field(id('name'), 'ФИО', h('input', { id: id('name'), name: 'name', required: true, maxlength: 200 })),
          field(id('relation'), 'Кем приходится', h('input', { id: id('relation'), name: 'relation', required: true, maxlength: 100, placeholder: 'сын, дочь, соседка…' }))),
        h('div', { class: 'row' },
          field(id('phone'), 'Телефон', h('input', { id: id('phone'), name: 'phone', type: 'tel', autocomplete: 'off', placeholder: '+7 900 000-00-00' })),
          field(id('email'), 'Эл. почта', h('input', { id: id('email'), name: 'email', type: 'email', autocomplete: 'off' }))),
        h('div', { class: 'field check' }, h('input', { type: 'checkbox', id: id('legal'), name: 'legal_representative' }), h('label', { for: id('legal') }, 'Законный представитель')),
        h('div', { class: 'field check' }, h('input', { type: 'checkbox', id: id('consent'), name: 'consent_to_notices', checked: true }), h('label', { for: id('consent') }, 'Согласен получать уведомления')),
        field(id('channel'), 'Как уведомлять', select(id('channel'), REF.notice_channels.map((c) => [c, NOTICE_CHANNEL_LABELS[c] || c]), 'sms', { name: 'preferred_channel' })),
        h('button', { type: 'button', class: 'small-button', onclick: () => { fs.remove(); } }, 'Удалить контакт'));
      contacts.appendChild(fs);
      return fs;
    };
    addContact();
    const capacity = select('legal_capacity', REF.legal_capacities.map((c) => [c, LEGAL_CAPACITY_LABELS[c] || c]), 'capable', { required: true });
    const guardianship = agencyPicker('guardianship_id', 'guardianship');
    const guardBox = field('guardianship_id', 'Орган опеки', guardianship, 'Обязателен для недееспособного заявителя.');
    guardBox.hidden = true;
    capacity.addEventListener('change', () => { guardBox.hidden = capacity.value !== 'incapacitated'; });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Зарегистрировать');

    const form = h('form', {
      id: 'new-case-form', class: 'card', novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        main.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
        const v = (name) => form.elements[name].value.trim();
        const body = {
          channel: v('channel'), facility_type: v('facility_type'),
          applicant: {
            full_name: v('full_name'), birth_date: v('birth_date'), gender: v('gender'), snils: v('snils'),
            address: v('address'), legal_capacity: v('legal_capacity'), disability_group: v('disability_group'),
          },
          contacts: [],
        };
        if (v('passport')) body.applicant.passport = v('passport');
        if (body.applicant.legal_capacity === 'incapacitated' && v('guardianship_id')) body.guardianship_id = v('guardianship_id');
        if (v('health_org_id')) body.health_org_id = v('health_org_id');
        contacts.querySelectorAll('fieldset.contact').forEach((fs) => {
          const get = (n) => fs.querySelector('[name="' + n + '"]');
          const ct = { name: get('name').value.trim(), relation: get('relation').value.trim(),
            legal_representative: get('legal_representative').checked, consent_to_notices: get('consent_to_notices').checked,
            preferred_channel: get('preferred_channel').value };
          if (get('phone').value.trim()) ct.phone = get('phone').value.trim();
          if (get('email').value.trim()) ct.email = get('email').value.trim();
          body.contacts.push(ct);
        });
        const missing = ['full_name', 'birth_date', 'snils', 'address'].filter((n) => !v(n));
        if (missing.length) {
          missing.forEach((n) => form.elements[n].setAttribute('aria-invalid', 'true'));
          replace(msg, h('p', { class: 'problem', role: 'alert' }, 'Заполните обязательные поля заявителя.'));
          form.elements[missing[0]].focus();
          return;
        }
        submit.disabled = true;
        const res = await api('POST', '/api/v1/cases', { body });
        submit.disabled = false;
        if (!res.ok) {
          replace(msg, problemBox(res));
          const el = fieldElement(form, contacts, res.problem && res.problem.field);
          if (el) { el.setAttribute('aria-invalid', 'true'); el.focus(); } else msg.querySelector('.problem').focus();
          return;
        }
        showCreated(res.data);
      },
    },
    h('fieldset', {}, h('legend', {}, 'Обращение'),
      h('div', { class: 'row' },
        field('channel', 'Канал обращения', select('channel', REF.channels.map((c) => [c, CHANNEL_LABELS[c] || c]), 'hotline')),
        field('facility_type', 'Тип учреждения', select('facility_type', REF.facility_types.map((t) => [t, FACILITY_TYPE_LABELS[t] || t]), 'elderly_disabled')))),
    h('fieldset', {}, h('legend', {}, 'Заявитель'),
      field('full_name', 'ФИО', h('input', { id: 'full_name', name: 'full_name', required: true, maxlength: 200, autocomplete: 'off' })),
      h('div', { class: 'row' },
        field('birth_date', 'Дата рождения', h('input', { id: 'birth_date', name: 'birth_date', type: 'date', required: true, max: today(), min: '1900-01-01' })),
        field('gender', 'Пол', select('gender', [['female', 'женский'], ['male', 'мужской']], 'female'))),
      h('div', { class: 'row' },
        field('snils', 'СНИЛС', h('input', { id: 'snils', name: 'snils', required: true, inputmode: 'numeric', autocomplete: 'off', placeholder: '123-456-789 01' }), 'Контрольное число проверяется.'),
        field('passport', 'Паспорт (необязательно)', h('input', { id: 'passport', name: 'passport', maxlength: 100, autocomplete: 'off', placeholder: '45 03 123456' }))),
      field('address', 'Адрес', h('input', { id: 'address', name: 'address', required: true, maxlength: 500, autocomplete: 'off' })),
      h('div', { class: 'row' },
        field('legal_capacity', 'Дееспособность', capacity),
        field('disability_group', 'Инвалидность', select('disability_group', REF.disability_groups.map((g) => [g, DISABILITY_LABELS[g] || g]), 'none'))),
      guardBox, field('health_org_id', 'Медицинская организация (необязательно)', agencyPicker('health_org_id', 'health'))),
    h('fieldset', {}, h('legend', {}, 'Родственники и представители'), contacts,
      h('button', { type: 'button', onclick: () => { addContact().querySelector('input').focus(); } }, 'Добавить контакт')),
    h('div', { class: 'buttons' }, submit, h('a', { class: 'button', href: '/console' }, 'Отмена')),
    msg);
    replace(main, h('nav', { class: 'crumbs' }, h('a', { href: '/console' }, '← Все дела')), h('h1', {}, 'Новое дело'), form);
    form.elements.full_name.focus();
  }

  // agencyPicker lists the agencies of one kind by name (GET /agency-directory), not their ids.
  function agencyPicker(id, kind) {
    const sel = select(id, [['', '— не выбрано —']]);
    api('GET', '/api/v1/agency-directory?kind=' + kind).then((r) => { for (const a of r.ok ? r.data.items : []) sel.appendChild(h('option', { value: a.id }, a.name)); });
    return sel;
  }

  // fieldElement finds the input a problem's field names: "applicant.snils", "contacts.0.phone".
  function fieldElement(form, contacts, path) {
    if (!path) return null;
    const parts = path.split('.');
    if (parts[0] === 'applicant' && parts[1]) return form.elements[parts[1]] || null;
    if (parts[0] === 'contacts') {
      const fs = contacts.querySelectorAll('fieldset.contact')[Number(parts[1])];
      return fs && parts[2] ? fs.querySelector('[name="' + parts[2] + '"]') : null;
    }
    return form.elements[parts[0]] || null;
  }

  function showCreated(c) {
    setTitle('Дело ' + c.number + ' зарегистрировано');
    const box = h('section', { class: 'card created', 'aria-labelledby': 'h-created', tabindex: '-1' },
      h('h1', { id: 'h-created' }, 'Дело зарегистрировано'),
      dl([
        ['Номер дела', h('span', { class: 'big mono', id: 'created-number' }, c.number)],
        ['Код доступа', h('span', { class: 'big mono', id: 'created-code' }, c.access_code)],
        ['Заявитель', c.applicant.full_name],
      ]),
      (c.warnings || []).map((w) => h('p', { class: 'warning', role: 'alert', dataset: { code: w.code } }, w.message)),
      h('p', { class: 'warning' }, 'Код доступа показывается только один раз. Продиктуйте его заявителю или родственнику: ' +
        'с номером дела и кодом они узнают статус на странице «Статус заявления»: ' + location.origin + '/status'),
      h('div', { class: 'buttons' },
        h('a', { class: 'button primary', href: '/console/cases/' + c.id }, 'Открыть дело'),
        h('a', { class: 'button', href: '/console/new' }, 'Зарегистрировать ещё')));
    replace(main, box);
    box.focus();
  }

  // ---- the hotline's desk (issue 18) ---------------------------------------------------------
  // The case page's call log and "new call" form, the open call-backs, and the outreach leads.

  const TOPIC_LABELS = Object.fromEntries((REF.contact_topics || []).map((t) => [t.name, t.label]));
  const CONTACT_CHANNEL_LABELS = { phone: 'Звонок', visit: 'Визит', letter: 'Письмо', email: 'Эл. почта', online: 'Онлайн', messenger: 'Мессенджер' };
  const DIRECTION_LABELS = { inbound: 'входящий', outbound: 'исходящий' };
  const PARTY_LABELS = {
    applicant: 'Заявитель', relative: 'Родственник', representative: 'Представитель', agency: 'Организация',
    resident: 'Проживающий', other: 'Другое',
  };
  const deadlineLabel = (k) => DEADLINE_KIND_LABELS[k] || (REF.deadline_labels || {})[k] || k;

  // contactItem is one logged contact, newest first in every list.
  function contactItem(x, withCase) {
    const owed = x.follow_up_due && !x.follow_up_done_at;
    const late = owed && x.follow_up_due < today();
    return h('li', { class: 'contact' + (late ? ' overdue' : ''), dataset: { contactId: x.id, topic: x.topic } },
      h('p', {}, h('strong', {}, TOPIC_LABELS[x.topic] || x.topic), ' · ',
        (CONTACT_CHANNEL_LABELS[x.channel] || x.channel) + ', ' + (DIRECTION_LABELS[x.direction] || x.direction), ' · ',
        h('span', { class: 'muted small' }, fmtDateTime(x.created_at), x.taken_by_name ? ', ' + x.taken_by_name : '')),
      withCase && x.case_id ? h('p', {}, 'Дело ', h('a', { href: '/console/cases/' + x.case_id, class: 'case-link' }, x.case_number)) : null,
      x.caller_name || x.caller_phone ? h('p', {}, (PARTY_LABELS[x.party] || x.party) + ': ', x.caller_name || '',
        x.caller_phone ? h('a', { class: 'nowrap', href: 'tel:' + x.caller_phone }, ' ' + x.caller_phone) : null) : null,
      x.question ? h('p', {}, h('span', { class: 'muted' }, 'Вопрос: '), x.question) : null,
      x.answer ? h('p', {}, h('span', { class: 'muted' }, 'Ответ: '), x.answer) : null,
      owed ? h('p', { class: late ? 'due overdue' : 'due' }, 'Перезвонить до ', h('strong', {}, fmtDate(x.follow_up_due)),
        late ? h('span', { class: 'badge danger' }, 'просрочено') : null) : null,
      x.follow_up_done_at ? h('p', { class: 'muted small' }, 'Перезвонили ' + fmtDateTime(x.follow_up_done_at)) : null);
  }

  // newCallForm logs a call in a few keystrokes: topic, who, what was asked and answered; a
  // promised call-back is a date. done runs after the call is logged.
  function newCallForm(caseID, done, followUpOf) {
    const msg = h('div', { class: 'call-message' });
    const v = (id) => form.querySelector('#' + id).value.trim();
    const form = h('form', { id: 'new-call', class: 'new-call', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const body = { channel: v('call-channel'), direction: v('call-direction'), party: v('call-party'), topic: v('call-topic'),
        caller_name: v('call-name'), caller_phone: v('call-phone'), question: v('call-question'), answer: v('call-answer') };
      if (caseID) body.case_id = caseID;
      if (v('call-follow-up')) body.follow_up_due = v('call-follow-up');
      if (followUpOf) body.follow_up_of = followUpOf;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      const res = await api('POST', '/api/v1/contacts', { body });
      button.disabled = false;
      if (!res.ok) { replace(msg, problemBox(res)); return; }
      done(res.data);
    } },
    h('div', { class: 'row' },
      field('call-topic', 'Тема', select('call-topic', (REF.contact_topics || []).map((t) => [t.name, t.label]), 'status')),
      field('call-party', 'Кто обратился', select('call-party', Object.entries(PARTY_LABELS), 'relative')),
      field('call-channel', 'Канал', select('call-channel', Object.entries(CONTACT_CHANNEL_LABELS), 'phone')),
      field('call-direction', 'Направление', select('call-direction', Object.entries(DIRECTION_LABELS), followUpOf ? 'outbound' : 'inbound'))),
    h('div', { class: 'row' },
      field('call-name', 'ФИО звонящего', h('input', { id: 'call-name', maxlength: 200, autocomplete: 'off' })),
      field('call-phone', 'Телефон', h('input', { id: 'call-phone', type: 'tel', maxlength: 40, autocomplete: 'off', placeholder: '8 916 123-45-67' }))),
    field('call-question', 'Вопрос', h('textarea', { id: 'call-question', rows: 2, maxlength: 4000 })),
    field('call-answer', 'Ответ', h('textarea', { id: 'call-answer', rows: 2, maxlength: 4000 })),
    field('call-follow-up', 'Перезвонить до', h('input', { id: 'call-follow-up', type: 'date', min: today() }), 'Обещанный звонок становится сроком: о нём напомнят.'),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, followUpOf ? 'Записать обратный звонок' : 'Записать звонок')),
    msg);
    return form;
  }

  // hotlineSection opens the case page: the next step, the last calls and the "new call" form.
  function hotlineSection(st) {
    const next = (st.c.deadlines || []).filter((d) => d.state === 'open' || d.state === 'overdue')
      .sort((a, b) => (a.due_at < b.due_at ? -1 : 1))[0];
    const box = h('div', { id: 'new-call-box' });
    const open = h('button', { type: 'button', id: 'new-call-open', class: 'primary', onclick: () => {
      replace(box, newCallForm(st.id, async () => {
        const res = await api('GET', '/api/v1/cases/' + encodeURIComponent(st.id) + '/contacts?limit=10');
        st.contacts = res.ok ? res.data.items : st.contacts;
        renderCase(st, 'Звонок записан.');
      }));
      box.querySelector('#call-topic').focus();
    } }, 'Новый звонок');
    const calls = st.contacts || [];
    return section('h-hotline', 'Обращения',
      next ? h('p', { id: 'next-step', class: next.state === 'overdue' ? 'due overdue' : 'due' }, 'Следующий шаг: ', deadlineLabel(next.kind),
        ' — до ', h('strong', {}, next.due_on ? fmtDate(next.due_on) : fmtDue(next.due_at))) : h('p', { id: 'next-step', class: 'muted' }, 'Открытых сроков нет.'),
      calls.length ? h('ul', { class: 'contacts-log', id: 'contacts-log' }, calls.slice(0, 5).map((x) => contactItem(x, false)))
        : h('p', { class: 'muted', id: 'contacts-log' }, 'Обращений по делу ещё не было.'),
      h('div', { class: 'buttons' }, open, RESIDENT_STATES.has(st.c.state) ? h('button', { type: 'button', id: 'contact-request-open', onclick: () => {
        replace(box, contactRequestForm(st));
        box.querySelector('#cr-name').focus();
      } }, 'Связь с проживающим') : null), box);
  }

  const RESIDENT_STATES = new Set(['residing', 'on_leave', 'hospitalized', 'transfer_pending']);

  // contactRequestForm asks the home to put a relative in touch with the resident.
  function contactRequestForm(st) {
    const msg = h('div', {});
    const v = (id) => form.querySelector('#' + id).value.trim();
    const form = h('form', { id: 'contact-request', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const res = await api('POST', '/api/v1/cases/' + encodeURIComponent(st.id) + '/contact-requests', { body: {
        name: v('cr-name'), relation: v('cr-relation'), phone: v('cr-phone'), message: v('cr-message') } });
      if (!res.ok) { replace(msg, problemBox(res)); return; }
      casePage(st.id).then(() => {
        const f = document.getElementById('flash');
        replace(f, h('p', { class: 'flash', role: 'status' }, 'Просьба о связи передана в учреждение; ответ — до ' + fmtDate(res.data.due_on) + '.'));
        f.focus();
      });
    } },
    h('div', { class: 'row' },
      field('cr-name', 'Кто просит', h('input', { id: 'cr-name', maxlength: 200, autocomplete: 'off' })),
      field('cr-relation', 'Кем приходится', h('input', { id: 'cr-relation', maxlength: 100, autocomplete: 'off' })),
      field('cr-phone', 'Телефон для связи', h('input', { id: 'cr-phone', type: 'tel', maxlength: 40, autocomplete: 'off' }))),
    field('cr-message', 'Что передать', h('textarea', { id: 'cr-message', rows: 2, maxlength: 2000 })),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Передать в учреждение')), msg);
    return form;
  }

  // followUpsPage lists the call-backs still owed, soonest first; one is made from here.
  async function followUpsPage() {
    setTitle('Обратные звонки');
    const list = h('div', { id: 'follow-ups', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Загрузка…'));
    replace(main, h('h1', {}, 'Обратные звонки'), list);
    const res = await api('GET', '/api/v1/contacts?follow_up=open&limit=200');
    if (!res.ok) { replace(list, problemBox(res)); return; }
    const items = res.data.items || [];
    if (!items.length) { replace(list, h('p', { class: 'empty' }, 'Все обещанные звонки сделаны.')); return; }
    replace(list, h('ul', { class: 'contacts-log' }, items.map((x) => {
      const box = h('div', {});
      const li = contactItem(x, true); // an <li> itself: the button and form go inside it
      li.append(h('button', { type: 'button', class: 'small-button', onclick: () => {
        replace(box, newCallForm(x.case_id, () => followUpsPage(), x.id));
      } }, 'Перезвонить'), box);
      return li;
    })));
  }

  const OUTCOME_LABELS = { reached: 'связь установлена', declined: 'проживающий не захотел связи', unreachable: 'связаться не удалось' };

  // contactRequestsPage lists the requests to reach a resident, open ones soonest due first; a
  // specialist records the home's answer given by phone.
  async function contactRequestsPage() {
    setTitle('Связь с проживающими');
    const list = h('div', { id: 'contact-requests', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Загрузка…'));
    replace(main, h('h1', {}, 'Связь с проживающими'), list);
    const res = await api('GET', '/api/v1/contact-requests?limit=200');
    if (!res.ok) { replace(list, problemBox(res)); return; }
    const items = res.data.items || [];
    if (!items.length) { replace(list, h('p', { class: 'empty' }, 'Просьб о связи нет.')); return; }
    replace(list, h('ul', { class: 'contacts-log' }, items.map((r) => {
      const late = r.state === 'open' && r.due_on < today();
      const box = h('div', {});
      return h('li', { class: 'contact' + (late ? ' overdue' : ''), dataset: { requestId: r.id, state: r.state } },
        h('p', {}, 'Дело ', h('a', { href: '/console/cases/' + r.case_id, class: 'case-link' }, r.case_number), ' · ',
          h('strong', {}, r.name), ' (' + r.relation + ') ', h('a', { class: 'nowrap', href: 'tel:' + r.phone }, r.phone)),
        r.message ? h('p', {}, h('span', { class: 'muted' }, 'Передать: '), r.message) : null,
        r.state === 'open'
          ? h('p', { class: late ? 'due overdue' : 'due' }, 'Ответ учреждения до ', h('strong', {}, fmtDate(r.due_on)),
            late ? h('span', { class: 'badge danger' }, 'просрочено') : null)
          : h('p', { class: 'muted' }, 'Итог: ' + (r.outcome_label || r.outcome) + (r.done_at ? ', ' + fmtDateTime(r.done_at) : '')),
        r.state === 'open' ? h('form', { class: 'buttons', onsubmit: async (e) => {
          e.preventDefault();
          const outcome = e.target.querySelector('select').value;
          const done = await api('POST', '/api/v1/contact-requests/' + encodeURIComponent(r.id) + '/done', { body: { outcome } });
          if (!done.ok) { replace(box, problemBox(done)); return; }
          contactRequestsPage();
        } }, h('label', { class: 'sr-only', for: 'outcome-' + r.id }, 'Итог'),
        select('outcome-' + r.id, Object.entries(OUTCOME_LABELS), 'reached'),
        h('button', { type: 'submit' }, 'Отметить итог')) : null,
        box);
    })));
  }

  const LEAD_STATE_LABELS = { new: 'новая', contacted: 'связались', declined: 'отказ', converting: 'оформляется', converted: 'заведено дело' };
  const MOBILITY_LABELS = { independent: 'передвигается сам', with_difficulty: 'с трудом', housebound: 'не выходит из дома', bedridden: 'лежачий' };
  const SELF_CARE_LABELS = { independent: 'обслуживает себя', needs_help: 'нужна помощь', unable: 'не может себя обслуживать' };
  const MEMORY_LABELS = { fine: 'без нарушений', forgetful: 'забывчивость', severe: 'серьёзные нарушения' };

  // leadsPage is the triage queue of outreach leads, neediest first, with convert into a case.
  async function leadsPage() {
    setTitle('Выездные обследования');
    const state = new URLSearchParams(location.search).get('state') || 'new';
    const filter = h('form', { class: 'card', method: 'get', action: '/console/leads' },
      field('lead-state', 'Состояние', select('state', Object.entries(LEAD_STATE_LABELS).filter(([k]) => k !== 'converting'), state, { id: 'lead-state' })),
      h('button', { type: 'submit' }, 'Показать'));
    const list = h('div', { id: 'leads', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Загрузка…'));
    replace(main, h('h1', {}, 'Выездные обследования'), filter, list);
    const res = await api('GET', '/api/v1/leads?state=' + encodeURIComponent(state));
    if (!res.ok) { replace(list, problemBox(res)); return; }
    const items = res.data.items || [];
    if (!items.length) { replace(list, h('p', { class: 'empty' }, 'Обследований в этом состоянии нет.')); return; }
    replace(list, h('ul', { class: 'leads' }, items.map((l) => {
      const a = l.answers || {};
      const box = h('div', {});
      const triage = (outcome) => async () => {
        const r = await api('POST', '/api/v1/leads/' + encodeURIComponent(l.id) + '/triage', { body: { outcome } });
        if (!r.ok) { replace(box, problemBox(r)); return; }
        leadsPage();
      };
      const active = l.state === 'new' || l.state === 'contacted';
      return h('li', { class: 'card lead' + (l.untouched ? ' overdue' : ''), dataset: { leadId: l.id } },
        h('p', {}, h('strong', {}, l.full_name), ', ', fmtDate(l.birth_date), ' · ', h('span', { class: 'badge' }, 'нуждаемость ' + l.need_score + ' из 15'),
          l.untouched ? h('span', { class: 'badge danger' }, 'без ответа') : null),
        h('p', {}, l.address, l.phone ? h('a', { class: 'nowrap', href: 'tel:' + l.phone }, ' ' + l.phone) : null),
        h('p', { class: 'muted small' }, [a.lives_alone ? 'живёт один' : 'живёт не один', MOBILITY_LABELS[a.mobility], SELF_CARE_LABELS[a.self_care],
          'память: ' + (MEMORY_LABELS[a.memory] || a.memory), a.who_helps ? 'помогает: ' + a.who_helps : 'никто не помогает'].filter(Boolean).join('; ')),
        a.asks ? h('p', {}, h('span', { class: 'muted' }, 'Просит: '), a.asks) : null,
        h('p', { class: 'muted small' }, 'Источник: ' + l.source + ' · согласие от ' + fmtDate(l.consent_on) + ' · ' + (LEAD_STATE_LABELS[l.state] || l.state)),
        l.case_id ? h('p', {}, h('a', { href: '/console/cases/' + l.case_id, class: 'case-link' }, 'Открыть дело')) : null,
        active ? h('div', { class: 'buttons' },
          l.state === 'new' ? h('button', { type: 'button', onclick: triage('contacted') }, 'Связались') : null,
          h('button', { type: 'button', class: 'danger', onclick: triage('declined') }, 'Отказ'),
          h('button', { type: 'button', class: 'primary', onclick: () => replace(box, convertForm(l, box)) }, 'Завести дело')) : null,
        box);
    })));
  }

  function convertForm(l, box) {
    const v = (id) => form.querySelector('#' + id).value.trim();
    const form = h('form', { class: 'convert', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const res = await api('POST', '/api/v1/leads/' + encodeURIComponent(l.id) + '/convert', { body: {
        facility_type: v('cv-facility-type'), gender: v('cv-gender'), snils: v('cv-snils'), legal_capacity: v('cv-legal-capacity'),
        disability_group: v('cv-disability') } });
      if (!res.ok) { replace(box, form, problemBox(res)); return; }
      replace(box, h('div', { class: 'flash', role: 'status', id: 'converted' }, 'Заведено дело ',
        h('a', { href: '/console/cases/' + res.data.case_id, class: 'case-link' }, res.data.case_number),
        '. Код доступа для родственников (показывается один раз): ', h('strong', { class: 'mono' }, res.data.access_code)));
    } },
    h('div', { class: 'row' },
      field('cv-facility-type', 'Тип учреждения', select('cv-facility-type', REF.facility_types.map((t) => [t, FACILITY_TYPE_LABELS[t] || t]), 'elderly_disabled')),
      field('cv-gender', 'Пол', select('cv-gender', Object.entries(GENDER_LABELS), 'female')),
      field('cv-snils', 'СНИЛС', h('input', { id: 'cv-snils', required: true, placeholder: '112-233-445 95', autocomplete: 'off' })),
      field('cv-legal-capacity', 'Дееспособность', select('cv-legal-capacity', Object.entries(LEGAL_CAPACITY_LABELS), 'capable')),
      field('cv-disability', 'Инвалидность', select('cv-disability', Object.entries(DISABILITY_LABELS), 'none'))),
    h('button', { type: 'submit', class: 'primary' }, 'Зарегистрировать дело'));
    return form;
  }

  // ---- extensions ----------------------------------------------------------------------------
  // Other console scripts (loaded after this one by console.html) add whole pages and case-page
  // sections through window.carepath.console, so each area of the console lives in its own file.
  const pages = []; // {pattern: RegExp, render: async (who, match) => void}
  const caseSections = []; // (st) => element or null, appended to the case page's side column

  function extensionPage(p) {
    for (const page of pages) {
      const match = page.pattern.exec(p);
      if (match) return { page, match };
    }
    return null;
  }

  window.carepath.console = {
    addPage: (pattern, render) => pages.push({ pattern, render }),
    addCaseSection: (fn) => caseSections.push(fn),
    api, me, facilities, field, select, cell, dl, section, stateBadge, setTitle, stateLabel, docLabel, eventLabel, deadlineLabel,
    main, reloadCase: (id) => casePage(id), renderCase, reloadHistory,
    // An event another script gives its label, its form's fields ({name: FIELDS-like def}) and
    // the labels of what its history line records.
    relationLabel: (r) => RELATION_LABELS[String(r || '').toLowerCase()] || r,
    addEvent: (ev, label, fields, payloadLabels, payloadFormats) => {
      EVENT_LABELS[ev] = label; Object.assign(FIELDS, fields || {}); Object.assign(PAYLOAD_LABELS, payloadLabels || {});
      Object.assign(PAYLOAD_FORMATS, payloadFormats || {});
      if (fields) EVENT_FIELDS[ev] = Object.keys(fields);
    },
  };

  // ---- routing -------------------------------------------------------------------------------

  async function route() {
    if (!token()) { showLogin(); return; }
    const p = location.pathname.replace(/\/+$/, '') || '/console';
    try {
      const who = await me();
      // An administrator runs the service, not cases: their pages instead of a refusal.
      if (who.role === 'admin' && !extensionPage(p)) { await adminPage(who); return; }
      nav.hidden = false;
      let m;
      if (p === '/console') await listPage();
      else if (p === '/console/mine') await myCasesPage(who);
      else if (p === '/console/new') newCasePage();
      else if (p === '/console/follow-ups') await followUpsPage();
      else if (p === '/console/leads') await leadsPage();
      else if (p === '/console/contact-requests') await contactRequestsPage();
      else if ((m = /^\/console\/cases\/([^/]+)$/.exec(p))) await casePage(decodeURIComponent(m[1]));
      else if ((m = extensionPage(p))) await m.page.render(who, m.match);
      else replace(main, h('h1', {}, 'Страница не найдена'), h('a', { href: '/console' }, 'К списку дел'));
    } catch (e) {
      if (!(e instanceof SignedOut)) {
        replace(main, h('div', { class: 'problem', role: 'alert' }, 'Ошибка в консоли: ' + e.message));
        throw e;
      }
    }
  }

  document.getElementById('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.href = '/console';
  });
  // Deferred scripts have all run by DOMContentLoaded, so the extensions are registered by then.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', route);
  else route();
})();

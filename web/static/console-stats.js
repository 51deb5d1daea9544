// The center's figures (/console/stats): GET /api/v1/stats for a chosen period as charts and
// tables, and the CSV and XLSX exports. Supervisors and admins; Chart.js (vendored from npm,
// web/static/chart.umd.min.js) is loaded only on this page.
(() => {
  'use strict';
  const { h, replace, fmtDate, fmtDateTime, problemBox } = window.carepath;
  const con = window.carepath.console;
  const REF = window.CAREPATH_REF || {};
  const WORDS = REF.stats_words || {};
  const word = (group, code) => WORDS[group + '.' + code] || code;
  const STATES = Object.fromEntries((REF.states || []).map((s) => [s.name, s.label]));
  const DEADLINES = REF.deadline_labels || {};
  const TOPICS = Object.fromEntries((REF.contact_topics || []).map((t) => [t.name, t.label]));
  const TOKEN_KEY = 'carepath.token';
  const COLORS = ['#1f5fa8', '#c0392b', '#2e8b57', '#d68910', '#7d3c98', '#5d6d7e', '#117a65'];

  let chartLib = null;
  function loadCharts() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!chartLib) {
      chartLib = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = '/static/chart.umd.min.js';
        s.onload = () => resolve(window.Chart);
        s.onerror = () => reject(new Error('chart library'));
        document.head.appendChild(s);
      });
    }
    return chartLib;
  }

  // The nav link is for those who may read the figures.
  function showLink() {
    const link = document.querySelector('#nav a[href="/console/stats"]');
    if (!link) return;
    con.me().then((who) => { link.hidden = !(who && (who.role === 'supervisor' || who.role === 'admin')); }).catch(() => {});
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', showLink);
  else showLink();

  const isoDay = (d) => d.toISOString().slice(0, 10);

  function periodFromURL() {
    const p = new URLSearchParams(location.search);
    const to = p.get('to') || isoDay(new Date());
    const d = new Date(to + 'T00:00:00Z');
    d.setUTCFullYear(d.getUTCFullYear() - 1);
    d.setUTCDate(d.getUTCDate() + 1);
    return { from: p.get('from') || isoDay(d), to, facility_type: p.get('facility_type') || '', district: p.get('district') || '' };
  }

  function query(q) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
    return p.toString();
  }

  // download fetches an export with the bearer token and hands it to the browser as a file.
  async function download(path, box) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) } });
    if (!res.ok) {
      let problem = {};
      try { problem = await res.json(); } catch (e) { /* not JSON */ }
      replace(box, problemBox({ status: res.status, problem }));
      return;
    }
    const name = (/filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '') || [])[1] || 'carepath';
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    replace(box);
  }

  function table(id, caption, heads, rows) {
    return h('div', { class: 'table-scroll' }, h('table', { class: 'cases stats', id },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c, i) => con.cell(heads[i], c === null || c === undefined ? '—' : c))))
        : h('tr', {}, h('td', { colspan: String(heads.length) }, 'Нет данных за период')))));
  }

  const pct = (x) => (x === null || x === undefined ? '—' : (Math.round(x * 1000) / 10).toString().replace('.', ',') + ' %');

  function chartBox(id, label) {
    return h('div', { class: 'chart' }, h('canvas', { id, role: 'img', 'aria-label': label }));
  }

  function draw(Chart, id, type, labels, datasets, stacked) {
    const el = document.getElementById(id);
    if (!el || !Chart) return;
    const old = Chart.getChart(el);
    if (old) old.destroy();
    // eslint-disable-next-line no-new
    new Chart(el, {
      type,
      data: { labels, datasets: datasets.map((d, i) => Object.assign({ backgroundColor: COLORS[i % COLORS.length] }, d)) },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { x: { stacked: !!stacked }, y: { stacked: !!stacked, beginAtZero: true } } },
    });
  }

  function render(box, st) {
    const months = [...new Set(st.applications.map((a) => a.month))].sort();
    const channels = [...new Set(st.applications.map((a) => a.channel))];
    const missed = st.missed_deadlines.map((m) => [
      h('a', { href: '/console/cases/' + encodeURIComponent(m.case_id), class: 'case-link' }, m.case_number),
      DEADLINES[m.kind] || m.kind, fmtDate(m.due_on), m.closed_at ? fmtDateTime(m.closed_at) : 'не выполнено']);
    const w = st.waiting;
    replace(box,
      h('p', { class: 'muted small' }, 'Период: ', fmtDate(st.from), ' — ', fmtDate(st.to), '. Рассчитано ', fmtDateTime(st.computed_at), '.'),
      con.section('h-stats-applications', word('report', 'applications'),
        chartBox('chart-applications', 'Заявления по месяцам и каналам'),
        table('stats-applications', 'Заявления', ['Месяц', 'Канал подачи', 'Заявлений'],
          st.applications.map((a) => [a.month, word('channel', a.channel), a.count]))),
      con.section('h-stats-states', word('report', 'cases_by_state'),
        table('stats-states', 'Дела по состояниям', ['Состояние', 'Дел сейчас'], st.cases_by_state.map((s) => [STATES[s.state] || s.state, s.count]))),
      con.section('h-stats-stages', word('report', 'stages'),
        chartBox('chart-stages', 'Медиана и 90-й процентиль длительности этапов, дней'),
        table('stats-stages', 'Длительность этапов', ['Этап', 'Завершено этапов', 'Медиана, дней', '90-й процентиль, дней'],
          st.stages.map((s) => [word('stage', s.stage), s.stays, s.median_days, s.p90_days]))),
      con.section('h-stats-deadlines', word('report', 'deadlines'),
        table('stats-deadlines', 'Сроки по закону', ['Срок', 'Наступило', 'Соблюдено', 'Нарушено', 'Ещё не наступило', 'Доля соблюдённых'],
          st.deadlines.map((d) => [DEADLINES[d.kind] || d.kind, d.due, d.met, d.missed, d.open, pct(d.share_met)])),
        h('h3', {}, word('report', 'missed_deadlines')),
        table('stats-missed', 'Нарушенные сроки', ['Дело', 'Срок', 'Срок истекал', 'Выполнено'], missed)),
      con.section('h-stats-waiting', word('report', 'waiting_list'),
        table('stats-waiting', 'Очередь', ['Тип учреждения', 'Категория очерёдности', 'Ждут'],
          w.lengths.map((l) => [word('facility_type', l.facility_type), word('priority', l.priority), l.count])),
        con.dl([[word('total', 'vouchers'), String(w.vouchers)], [word('total', 'median_wait_days'), w.median_wait_days === null ? '—' : String(w.median_wait_days)],
          [word('offer', 'made'), String(w.offers.made)], [word('offer', 'accepted'), String(w.offers.accepted)],
          [word('offer', 'declined'), String(w.offers.declined)], [word('offer', 'expired'), String(w.offers.expired)],
          [word('offer', 'withdrawn'), String(w.offers.withdrawn)], [word('offer', 'open'), String(w.offers.open)]]),
        table('stats-declines', 'Отказы по причинам', ['Причина отказа', 'Отказов'], w.declines.map((d) => [word('decline', d.reason), d.count]))),
      con.section('h-stats-occupancy', word('report', 'occupancy'),
        chartBox('chart-occupancy', 'Места по учреждениям: занято, забронировано, свободно'),
        table('stats-occupancy', 'Заполненность', ['Учреждение', 'Район', 'Отделение', 'Мест', 'Занято', 'Забронировано', 'Свободно', 'Последний отчёт'],
          st.occupancy.map((o) => [o.facility, o.district, o.title, o.capacity, o.occupied, o.reserved, o.free,
            h('span', { class: o.stale ? 'badge danger' : '' }, o.reported_at ? fmtDateTime(o.reported_at) : 'не было', o.stale ? ' · устарел' : '')]))),
      con.section('h-stats-hotline', 'Горячая линия',
        table('stats-contacts', 'Обращения', ['Месяц', 'Тема обращения', 'Обращений'], st.contacts.map((c) => [c.month, TOPICS[c.topic] || c.topic, c.count])),
        con.dl([['Обещано перезвонить', String(st.follow_ups.due)], ['Перезвонили в срок', String(st.follow_ups.met)],
          ['Срок нарушен', String(st.follow_ups.missed)], ['Срок ещё не наступил', String(st.follow_ups.open)]]),
        h('h3', {}, word('report', 'leads')),
        table('stats-leads', 'Обследования', ['Источник', 'Итог', 'Анкет'], st.leads.map((l) => [l.source, word('lead', l.state), l.count])),
        h('h3', {}, word('report', 'status_lookups')),
        table('stats-lookups', 'Запросы статуса', ['Месяц', 'Итог запроса', 'Запросов'],
          st.status_lookups.map((l) => [l.month, word('lookup', l.outcome), l.count]))),
      con.section('h-stats-notices', word('report', 'notices'),
        table('stats-notices', 'Уведомления', ['Канал', 'Получатель', 'Доставлено', 'Ошибка, будет повтор', 'Не доставлено', 'Ожидает'],
          st.notices.map((n) => [word('notice_channel', n.channel), word('audience', n.audience), n.delivered, n.failed, n.dead, n.pending])),
        con.dl([[word('total', 'notice_median_seconds'),
          st.notice_median_seconds === null ? '—' : String(Math.round(st.notice_median_seconds * 10) / 10).replace('.', ',')]])));

    loadCharts().then((Chart) => {
      draw(Chart, 'chart-applications', 'bar', months, channels.map((ch) => ({ label: word('channel', ch),
        data: months.map((m) => (st.applications.find((a) => a.month === m && a.channel === ch) || { count: 0 }).count) })), true);
      draw(Chart, 'chart-stages', 'bar', st.stages.map((s) => word('stage', s.stage)),
        [{ label: 'Медиана, дней', data: st.stages.map((s) => s.median_days) }, { label: '90-й процентиль, дней', data: st.stages.map((s) => s.p90_days) }]);
      const homes = [...new Set(st.occupancy.map((o) => o.facility))];
      const sum = (home, key) => st.occupancy.filter((o) => o.facility === home).reduce((n, o) => n + o[key], 0);
      draw(Chart, 'chart-occupancy', 'bar', homes, [{ label: 'Занято', data: homes.map((x) => sum(x, 'occupied')) },
        { label: 'Забронировано', data: homes.map((x) => sum(x, 'reserved')) }, { label: 'Свободно', data: homes.map((x) => sum(x, 'free')) }], true);
    }).catch(() => { /* the tables say it all without the charts */ });
  }

  con.addPage(/^\/console\/stats$/, async () => {
    con.setTitle('Показатели центра');
    const q = periodFromURL();
    const out = h('div', { id: 'stats', 'aria-live': 'polite' });
    const exportBox = h('div', {});
    const types = [['', 'Все типы']].concat((REF.facility_types || []).map((t) => [t, word('facility_type', t)]));
    const form = h('form', { class: 'filters', id: 'stats-form' },
      con.field('stats-from', 'С', h('input', { id: 'stats-from', name: 'from', type: 'date', value: q.from, required: true })),
      con.field('stats-to', 'По', h('input', { id: 'stats-to', name: 'to', type: 'date', value: q.to, required: true })),
      con.field('stats-type', 'Тип учреждения', con.select('stats-type', types, q.facility_type, { name: 'facility_type' })),
      con.field('stats-district', 'Район', h('input', { id: 'stats-district', name: 'district', maxlength: '200', value: q.district })),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Показать')));
    const reports = h('select', { id: 'stats-report', 'aria-label': 'Отчёт для выгрузки' },
      ['applications', 'cases_by_state', 'stages', 'deadlines', 'missed_deadlines', 'waiting_list', 'offers', 'occupancy', 'contacts',
        'follow_ups', 'leads', 'status_lookups', 'notices'].map((r) => h('option', { value: r }, word('report', r))));
    const current = () => ({ from: form.elements.from.value, to: form.elements.to.value,
      facility_type: form.elements.facility_type.value, district: form.elements.district.value.trim() });
    const exports = h('div', { class: 'buttons', id: 'stats-exports' },
      h('button', { type: 'button', id: 'export-xlsx', onclick: () => download('/api/v1/stats/export.xlsx?' + query(current()), exportBox) }, 'Скачать все отчёты одной книгой'),
      reports,
      h('button', { type: 'button', id: 'export-csv', onclick: () => download('/api/v1/stats/export.csv?' +
        query(Object.assign({ report: reports.value }, current())), exportBox) }, 'Скачать выбранный отчёт'));
    replace(con.main, h('h1', {}, 'Показатели центра'), form, exports, exportBox, out);

    async function load() {
      const now = current();
      history.replaceState(null, '', '/console/stats?' + query(now));
      replace(out, h('p', { class: 'muted' }, 'Загрузка…'));
      const res = await con.api('GET', '/api/v1/stats?' + query(now));
      if (!res.ok) { replace(out, problemBox(res)); return; }
      render(out, res.data);
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
    await load();
  });
})();

'use strict';
// The supervisors' area of the console: the open deadlines across every specialist, each
// specialist's open work, and giving a case to another specialist (POST /cases/{id}/assignee),
// from the board and from the case page.
(function () {
  const { h, replace, fmtDate, fmtDue, problemBox } = window.carepath;
  const C = window.carepath.console;
  const ROLE = { specialist: 'специалист', supervisor: 'руководитель' };

  // The nav link is for supervisors only.
  const link = document.querySelector('#nav a[href="/console/supervisor"]');
  if (link) link.hidden = true;
  // The console shows the nav once it knows who signed in (at load, or after the token form).
  const nav = document.getElementById('nav');
  const showLink = () => { if (link && !nav.hidden) C.me().then((who) => { link.hidden = who.role !== 'supervisor'; }).catch(() => {}); };
  new MutationObserver(showLink).observe(nav, { attributes: true, attributeFilter: ['hidden'] });
  showLink();

  let peoplePromise = null;
  function people() {
    if (!peoplePromise) {
      peoplePromise = C.api('GET', '/api/v1/workload').then((r) => (r.ok ? r.data : { items: [], unassigned: {} }));
      peoplePromise.catch(() => { peoplePromise = null; });
    }
    return peoplePromise;
  }

  // reassign gives a case to someone: it reads the case's version first, so a case changed
  // meanwhile is still given, and the answer says what happened.
  async function reassign(caseID, assigneeID) {
    const cur = await C.api('GET', '/api/v1/cases/' + encodeURIComponent(caseID));
    if (!cur.ok) return cur;
    return C.api('POST', '/api/v1/cases/' + encodeURIComponent(caseID) + '/assignee',
      { body: { assignee_id: assigneeID }, headers: { 'If-Match': cur.etag } });
  }

  function assigneeSelect(id, list, value, label) {
    const opts = [['', '— выберите —']].concat(list.map((p) => [p.id, p.name + ' (' + (ROLE[p.role] || 'сотрудник') + ', дел: ' + p.open_cases + ')']));
    return C.select(id, opts, value || '', { 'aria-label': label });
  }

  function nameOf(list, id) {
    if (!id) return 'не назначен';
    const p = list.find((x) => x.id === id);
    return p ? p.name : 'другой сотрудник';
  }

  // workloadBody is the workload table's body: one row per person, then the unassigned cases.
  function workloadBody(load) {
    const row = (p, who, id) => h('tr', { class: p.overdue ? 'overdue' : null, id, dataset: { id: p.id || '' } },
      C.cell('Сотрудник', ...who),
      C.cell('Открытых дел', String(p.open_cases || 0)),
      C.cell('Просрочено сроков', p.overdue ? h('span', { class: 'badge danger' }, String(p.overdue)) : '0'),
      C.cell('Под угрозой', String(p.at_risk || 0)),
      C.cell('Сроки', h('a', { href: '/console/supervisor?who=' + encodeURIComponent(p.id || 'none') + '#h-board' }, 'показать')));
    return h('tbody', {},
      (load.items || []).map((p) => row(p, [h('strong', {}, p.name), ' ', h('span', { class: 'muted' }, ROLE[p.role] || '')])),
      row(load.unassigned || {}, [h('em', {}, 'Не назначены')], 'workload-unassigned'));
  }

  // ---- the board -------------------------------------------------------------------------------

  C.addPage(/^\/console\/supervisor$/, async (who) => {
    C.setTitle('Сроки и нагрузка');
    if (who.role !== 'supervisor') {
      replace(C.main, h('h1', {}, 'Сроки и нагрузка'), h('p', { class: 'problem', role: 'alert' },
        'Этот раздел — для руководителей. Свои сроки вы видите в разделе «Мои дела».'), h('a', { href: '/console/mine' }, 'Мои дела'));
      return;
    }
    const params = new URLSearchParams(location.search);
    const filter = { who: params.get('who') || '', risk: params.get('risk') === '1' };
    peoplePromise = null;
    const [load, dls] = await Promise.all([people(), C.api('GET', '/api/v1/deadlines?limit=500' + (filter.risk ? '&at_risk=true' : ''))]);
    if (!dls.ok) { replace(C.main, h('h1', {}, 'Сроки и нагрузка'), problemBox(dls)); return; }
    const list = load.items || [];
    const flash = h('div', { id: 'board-flash', 'aria-live': 'polite' });

    const workload = C.section('h-workload', 'Нагрузка',
      h('p', { class: 'muted' }, 'Дела до поступления в учреждение; сроки этих дел — просроченные и истекающие в ближайшие 48 часов.'),
      h('table', { class: 'cases', id: 'workload' },
        h('thead', {}, h('tr', {}, ['Сотрудник', 'Открытых дел', 'Просрочено сроков', 'Под угрозой', 'Сроки'].map((t) => h('th', { scope: 'col' }, t)))),
        workloadBody(load)));

    let items = dls.data.items || [];
    if (filter.who === 'none') items = items.filter((d) => !d.assignee_id);
    else if (filter.who) items = items.filter((d) => d.assignee_id === filter.who);

    const whoSel = C.select('who', [['', 'Все сотрудники'], ['none', 'Не назначены']].concat(list.map((p) => [p.id, p.name])), filter.who);
    const risk = h('input', { type: 'checkbox', id: 'risk', name: 'risk', value: '1', checked: filter.risk });
    const form = h('form', { class: 'filters', method: 'get', action: '/console/supervisor', role: 'search', 'aria-label': 'Отбор сроков' },
      h('div', { class: 'row' }, C.field('who', 'Ответственный', whoSel),
        h('div', { class: 'field check' }, risk, h('label', { for: 'risk' }, 'Только просроченные и истекающие за 48 часов'))),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Показать')));

    const rows = items.map((d, i) => {
      const sel = assigneeSelect('to-' + i, list, d.assignee_id, 'Передать дело ' + d.case_number);
      const btn = h('button', { type: 'button', class: 'small-button', onclick: async () => {
        if (!sel.value || sel.value === d.assignee_id) { sel.focus(); return; }
        btn.disabled = true;
        const res = await reassign(d.case_id, sel.value);
        btn.disabled = false;
        if (!res.ok) { replace(flash, problemBox(res)); return; }
        replace(flash, h('p', { class: 'flash', role: 'status' }, 'Дело ' + d.case_number + ' передано: ' + nameOf(list, sel.value) + '.'));
        peoplePromise = null;
        const l = await people();
        document.querySelector('#workload tbody').replaceWith(workloadBody(l));
        document.querySelectorAll('tr[data-case-id="' + d.case_id + '"] .holder').forEach((el) => { el.textContent = nameOf(list, sel.value); });
        d.assignee_id = sel.value;
      } }, 'Передать');
      return h('tr', { class: d.state === 'overdue' ? 'overdue' : null, dataset: { caseId: d.case_id, kind: d.kind } },
        C.cell('Срок', h('strong', {}, d.due_on ? fmtDate(d.due_on) : fmtDue(d.due_at)),
          d.state === 'overdue' ? h('span', { class: 'badge danger' }, 'просрочен') : null),
        C.cell('Что', C.deadlineLabel(d.kind)),
        C.cell('Дело', h('a', { href: '/console/cases/' + d.case_id, class: 'case-link mono' }, d.case_number)),
        C.cell('Заявитель', d.applicant_name || ''),
        C.cell('Состояние', C.stateBadge(d.case_state)),
        C.cell('Ответственный', h('span', { class: 'holder' }, nameOf(list, d.assignee_id))),
        C.cell('Передать', h('div', { class: 'reassign' }, sel, btn)));
    });
    const board = C.section('h-board', 'Сроки по всем специалистам', form, flash,
      rows.length ? h('table', { class: 'cases', id: 'board' },
        h('thead', {}, h('tr', {}, ['Срок', 'Что', 'Дело', 'Заявитель', 'Состояние', 'Ответственный', 'Передать'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))
        : h('p', { class: 'empty' }, 'Открытых сроков нет.'));

    replace(C.main, h('h1', {}, 'Сроки и нагрузка'), workload, board);
  });

  // ---- the case page: who holds the case, and giving it to someone else -----------------------

  C.addCaseSection((st) => {
    if (!st.me || st.me.role !== 'supervisor') return null;
    const box = h('div', {}, h('p', { class: 'muted' }, 'Загрузка…'));
    const sec = C.section('h-assignee', 'Ответственный', box);
    people().then((load) => {
      const list = load.items || [];
      const sel = assigneeSelect('assignee-to', list, st.c.assignee_id, 'Кому передать дело');
      const msg = h('div', { 'aria-live': 'polite' });
      const form = h('form', { id: 'reassign-form', onsubmit: async (e) => {
        e.preventDefault();
        if (!sel.value) { sel.focus(); return; }
        const res = await C.api('POST', '/api/v1/cases/' + encodeURIComponent(st.c.id) + '/assignee',
          { body: { assignee_id: sel.value }, headers: { 'If-Match': st.etag } });
        if (!res.ok) { replace(msg, problemBox(res)); return; }
        peoplePromise = null;
        await C.reloadCase(st.c.id);
      } },
      h('p', {}, 'Сейчас: ', h('strong', { id: 'assignee-now' }, nameOf(list, st.c.assignee_id))),
      C.field('assignee-to', 'Передать дело', sel),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Передать')), msg);
      replace(box, form);
    });
    return sec;
  });
})();

// documents.js: the public consultation "which documents do I need?". The answers go to
// POST /api/v1/checklist-preview, which builds the list by the same rules as a case's checklist;
// the page shows it in plain Russian, ready to print.
(function () {
  'use strict';
  const { h, replace, request, problemBox } = window.carepath;
  const form = document.getElementById('documents-form');
  const message = document.getElementById('documents-message');
  const result = document.getElementById('documents-result');
  const button = form.querySelector('button[type=submit]');

  function question() {
    return {
      facility_type: document.getElementById('facility_type').value,
      legal_capacity: document.getElementById('legal_capacity').value,
      disability_group: document.getElementById('disability_group').value,
      represented: document.getElementById('represented').checked,
    };
  }

  function render(docs) {
    replace(result,
      h('h2', { id: 'documents-title' }, 'Нужно собрать документов: ' + docs.length),
      h('ol', { class: 'advice', id: 'documents-list' }, docs.map((d) => h('li', { dataset: { type: d.type } },
        h('h3', {}, d.title),
        h('p', {}, h('strong', {}, 'Где получить: '), d.where_obtained),
        h('p', {}, h('strong', {}, 'Срок действия: '), d.validity),
        h('p', { class: 'muted' }, h('strong', {}, 'Зачем: '), d.why_needed)))),
      h('p', { class: 'no-print' }, h('button', { type: 'button', class: 'secondary', id: 'documents-print', onclick: () => window.print() }, 'Распечатать список')));
    result.hidden = false;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    replace(message);
    const res = await request('POST', '/api/v1/checklist-preview', { body: question() });
    button.disabled = false;
    if (!res.ok) {
      result.hidden = true;
      replace(message, res.status === 429
        ? h('p', { class: 'problem', id: 'documents-error' }, 'Слишком много запросов. Попробуйте через минуту.')
        : problemBox(res));
      return;
    }
    render(res.data.documents || []);
    document.getElementById('documents-title').focus({ preventScroll: true });
  });
})();

// console-edit.js: editing what changes on the case page, and the law's events.
//   - the applicant's facts (legal capacity, disability, type of home, the decision period):
//     PATCH /api/v1/cases/{id}/facts; the checklist is rebuilt by the server
//   - relatives and representatives: add, change, remove (POST/PUT/DELETE /relatives); the
//     consent to notices is never pre-ticked and needs its source
//   - a new access code for the relatives (POST /access-code), shown once
//   - the forms of the appeal, the programme's review and the contract (events)
(function () {
  'use strict';
  const { h, replace, fmtDate, today, problemBox } = window.carepath;
  const C = window.carepath.console;
  const { api, field, select, section } = C;

  C.addEvent('appeal', 'Жалоба на отказ', {
    grounds: { label: 'Основания жалобы', kind: 'textarea', required: true },
    filed_on: { label: 'Дата подачи жалобы', kind: 'date', required: true, value: 'today', max: 'today' },
  }, { grounds: 'Основания жалобы', filed_on: 'Подана', appeal_outcome: 'Итог жалобы' },
  { appeal_outcome: (v) => OUTCOMES[v] || v });
  C.addEvent('review_ippsu', 'Пересмотр ИППСУ', {
    ippsu_number: { label: 'Номер новой ИППСУ', kind: 'text', required: true },
    ippsu_date: { label: 'Дата новой ИППСУ', kind: 'date', required: true, max: 'today' },
  }, { previous_ippsu_number: 'Прежняя ИППСУ', previous_ippsu_date: 'Дата прежней ИППСУ' });
  C.addEvent('sign_contract', 'Договор с учреждением', {
    contract_number: { label: 'Номер договора', kind: 'text', required: true },
    signed_on: { label: 'Дата договора', kind: 'date', required: true, value: 'today', max: 'today' },
  }, { contract_number: 'Номер договора', signed_on: 'Дата договора' });
  const docs = (v) => [].concat(v).map((t) => C.docLabel(t)).join('; ');
  C.addEvent('edit_facts', 'Исправлены сведения о заявителе', null,
    { changes: 'Изменено', documents_required: 'Стали нужны документы', documents_not_required: 'Больше не нужны документы' },
    { changes: (v) => Object.keys(v || {}).map((k) => FACT_LABELS[k] || k).join(', '), documents_required: docs, documents_not_required: docs });
  const contactPayload = { name: 'Контакт', notices_cancelled: 'Отменено уведомлений', consent_withdrawn_on: 'Согласие отозвано' };
  C.addEvent('add_contact', 'Добавлен контакт', null, contactPayload);
  C.addEvent('edit_contact', 'Изменён контакт', null, contactPayload);
  C.addEvent('remove_contact', 'Удалён контакт', null, contactPayload);

  const CAPACITY = [['capable', 'дееспособен'], ['limited', 'ограниченно дееспособен'], ['incapacitated', 'недееспособен']];
  const DISABILITY = [['none', 'нет'], ['1', 'I группа'], ['2', 'II группа'], ['3', 'III группа']];
  const HOME = [['elderly_disabled', 'Дом-интернат для престарелых и инвалидов'], ['psychoneurological', 'Психоневрологический интернат'],
    ['veterans', 'Дом ветеранов']];
  const CONSENT_SOURCES = [['', 'Выберите'], ['application', 'в заявлении'], ['written', 'письменное согласие'],
    ['in_person', 'лично в центре'], ['phone', 'по телефону'], ['online', 'через портал']];
  const CHANNELS = [['sms', 'SMS'], ['email', 'Эл. почта'], ['none', 'Не уведомлять']];
  const FACT_LABELS = {
    legal_capacity: 'дееспособность', disability_group: 'группа инвалидности', facility_type: 'тип учреждения',
    guardianship_id: 'орган опеки', health_org_id: 'медицинская организация', decision_with_ippsu: 'срок решения',
  };
  const OUTCOMES = { pending: 'рассматривается', granted: 'удовлетворена', dismissed: 'отклонена', withdrawn: 'заявление отозвано' };
  const BEFORE_THE_LIST = ['intake', 'collecting_documents', 'under_review', 'rejected'];
  const TERMINAL = ['discharged', 'deceased', 'withdrawn'];

  const casePath = (st, rest) => '/api/v1/cases/' + encodeURIComponent(st.id) + (rest || '');

  // send runs one change with the case's version and draws the case again with a confirmation.
  async function send(st, method, rest, body, msg, done) {
    replace(msg, h('p', { class: 'muted' }, 'Отправка…'));
    const res = await api(method, casePath(st, rest), { body, headers: { 'If-Match': st.etag } });
    if (!res.ok) {
      replace(msg, problemBox(res));
      const p = msg.querySelector('.problem');
      if (p) p.focus();
      return;
    }
    st.c = res.data;
    st.etag = res.etag;
    await C.reloadHistory(st);
    C.renderCase(st, done);
  }

  function checkbox(id, checked) {
    return h('input', { id, name: id, type: 'checkbox', checked: !!checked });
  }

  function factsForm(st) {
    const c = st.c;
    const msg = h('div', { class: 'form-message' });
    const home = select('ed-facility-type', HOME, c.facility_type, BEFORE_THE_LIST.includes(c.state) ? {} : { disabled: true });
    const withIPPSU = checkbox('ed-decision-with-ippsu', c.decision_with_ippsu);
    const form = h('form', {
      id: 'facts-form', class: 'edit-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const body = {
          legal_capacity: form.elements['ed-legal-capacity'].value,
          disability_group: form.elements['ed-disability'].value,
          decision_with_ippsu: withIPPSU.checked,
        };
        if (!home.disabled) body.facility_type = home.value;
        const comment = form.elements['ed-facts-comment'].value.trim();
        if (comment) body.comment = comment;
        await send(st, 'PATCH', '/facts', body, msg, 'Сведения о заявителе исправлены, перечень документов обновлён.');
      },
    },
    field('ed-legal-capacity', 'Дееспособность', select('ed-legal-capacity', CAPACITY, c.applicant.legal_capacity)),
    field('ed-disability', 'Группа инвалидности', select('ed-disability', DISABILITY, c.applicant.disability_group || 'none')),
    field('ed-facility-type', 'Тип учреждения', home, home.disabled ? 'После постановки в очередь тип учреждения не меняется.' : null),
    h('div', { class: 'field checkbox' }, withIPPSU,
      h('label', { for: 'ed-decision-with-ippsu' }, 'ИППСУ составляется вместе с решением (решение — до 10 рабочих дней)')),
    field('ed-facts-comment', 'Комментарий (необязательно)', h('textarea', { id: 'ed-facts-comment', name: 'ed-facts-comment', rows: 2, maxlength: 2000 })),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Сохранить сведения')),
    msg);
    return form;
  }

  // contactForm adds (index -1) or changes a contact. The consent box starts unticked for a new
  // contact; ticking it asks how the consent was given.
  function contactForm(st, index, box) {
    const ct = index >= 0 ? st.c.contacts[index] : {};
    const p = 'ed-ct-';
    const msg = h('div', { class: 'form-message' });
    const consent = checkbox(p + 'consent', ct.consent_to_notices);
    const source = select(p + 'source', CONSENT_SOURCES, ct.consent_source || '');
    const consentOn = h('input', { id: p + 'consent-on', name: p + 'consent-on', type: 'date', max: today(), value: ct.consent_on || today() });
    const consentBox = h('div', { class: 'consent-fields', hidden: !ct.consent_to_notices },
      field(p + 'source', 'Как получено согласие', source),
      field(p + 'consent-on', 'Дата согласия', consentOn));
    consent.addEventListener('change', () => { consentBox.hidden = !consent.checked; });
    const input = (name, label, attrs) => field(p + name, label,
      h('input', Object.assign({ id: p + name, name: p + name, value: ct[name] || '' }, attrs || {})));
    const form = h('form', {
      id: 'contact-form', class: 'edit-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const v = (n) => form.elements[p + n].value.trim();
        const body = {
          name: v('name'), relation: v('relation'), phone: v('phone'), email: v('email'),
          legal_representative: form.elements[p + 'representative'].checked,
          consent_to_notices: consent.checked, preferred_channel: form.elements[p + 'channel'].value,
        };
        if (consent.checked) {
          body.consent_source = source.value;
          body.consent_on = consentOn.value;
        }
        if (index >= 0) await send(st, 'PUT', '/relatives/' + index, body, msg, 'Контакт изменён.');
        else await send(st, 'POST', '/relatives', body, msg, 'Контакт добавлен.');
      },
    },
    h('h3', {}, index >= 0 ? 'Изменить контакт' : 'Новый контакт'),
    input('name', 'ФИО', { required: true, maxlength: 200, autocomplete: 'off' }),
    input('relation', 'Кем приходится', { required: true, maxlength: 100 }),
    input('phone', 'Телефон', { type: 'tel', maxlength: 32 }),
    input('email', 'Электронная почта', { type: 'email', maxlength: 254 }),
    h('div', { class: 'field checkbox' }, checkbox(p + 'representative', ct.legal_representative),
      h('label', { for: p + 'representative' }, 'Законный представитель')),
    field(p + 'channel', 'Способ уведомления', select(p + 'channel', CHANNELS, ct.preferred_channel || (ct.phone ? 'sms' : 'sms'))),
    h('div', { class: 'field checkbox' }, consent, h('label', { for: p + 'consent' }, 'Согласие на уведомления получено')),
    consentBox,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Сохранить контакт'),
      h('button', { type: 'button', onclick: () => replace(box) }, 'Отмена')),
    msg);
    replace(box, form);
    form.querySelector('input').focus();
  }

  function contactsEditor(st) {
    const c = st.c;
    const box = h('div', { id: 'contact-form-box' });
    const msg = h('div', { class: 'form-message' });
    const rows = (c.contacts || []).map((ct, i) => h('li', { class: 'contact-row', dataset: { index: String(i) } },
      h('span', {}, ct.name + ' (' + C.relationLabel(ct.relation) + ')'),
      h('span', { class: 'muted small' }, ct.consent_to_notices
        ? ' · согласие на уведомления с ' + fmtDate(ct.consent_on)
        : (ct.consent_withdrawn_on ? ' · согласие отозвано ' + fmtDate(ct.consent_withdrawn_on) : ' · без уведомлений')),
      ' ',
      h('button', { type: 'button', class: 'small', 'aria-label': 'Изменить контакт: ' + ct.name, onclick: () => contactForm(st, i, box) }, 'Изменить'),
      ' ',
      h('button', {
        type: 'button', class: 'small danger', 'aria-label': 'Удалить контакт: ' + ct.name,
        onclick: async () => {
          if (!window.confirm('Удалить контакт «' + ct.name + '»? Неотправленные уведомления ему будут отменены.')) return;
          await send(st, 'DELETE', '/relatives/' + i, undefined, msg, 'Контакт удалён.');
        },
      }, 'Удалить')));
    return h('div', { id: 'contacts-editor' },
      h('h3', {}, 'Родственники и представители'),
      rows.length ? h('ul', { class: 'plain' }, rows) : h('p', { class: 'muted' }, 'Контактов нет.'),
      h('button', { type: 'button', id: 'add-contact', onclick: () => contactForm(st, -1, box) }, 'Добавить контакт'),
      msg, box);
  }

  function accessCode(st) {
    const out = h('div', { id: 'access-code-box', 'aria-live': 'polite' });
    const button = h('button', {
      type: 'button', id: 'rotate-access-code',
      onclick: async () => {
        if (!window.confirm('Выдать новый код доступа? Прежний код сразу перестанет действовать.')) return;
        button.disabled = true;
        const res = await api('POST', casePath(st, '/access-code'));
        button.disabled = false;
        if (!res.ok) { replace(out, problemBox(res)); return; }
        st.c.version = res.data.version;
        st.etag = '"' + res.data.version + '"';
        replace(out, h('p', { class: 'flash', role: 'status' }, 'Новый код доступа: ',
          h('strong', { id: 'new-access-code', class: 'mono' }, res.data.access_code),
          '. Он показан один раз: передайте его родственникам, прежний код больше не действует.'));
      },
    }, 'Выдать новый код доступа');
    return h('div', {}, h('h3', {}, 'Код доступа для родственников'), button, out);
  }

  function lawFacts(c) {
    const rows = [];
    if (c.decision_with_ippsu) rows.push(h('p', {}, 'ИППСУ составляется вместе с решением: срок решения — до 10 рабочих дней.'));
    if (c.contract) rows.push(h('p', { id: 'contract-line' }, 'Договор с учреждением № ' + c.contract.number + ' от ' + fmtDate(c.contract.signed_on)));
    (c.appeals || []).forEach((a, i) => rows.push(h('p', { class: 'appeal', dataset: { outcome: a.outcome } },
      'Жалоба ' + (i + 1) + ' от ' + fmtDate(a.filed_on) + ': ' + (OUTCOMES[a.outcome] || a.outcome) +
      (a.decided_on ? ' (' + fmtDate(a.decided_on) + ')' : '') + '. Основания: ' + a.grounds)));
    return rows.length ? h('div', { id: 'law-facts' }, rows) : null;
  }

  C.addCaseSection((st) => {
    if (TERMINAL.includes(st.c.state)) return lawFacts(st.c) ? section('h-edit', 'Жалобы и договор', lawFacts(st.c)) : null;
    return section('h-edit', 'Изменить сведения',
      lawFacts(st.c),
      h('details', { id: 'facts-details' }, h('summary', {}, 'Сведения о заявителе'), factsForm(st)),
      contactsEditor(st),
      accessCode(st));
  });
})();

// status.js: the relatives' status page. Case number and access code go in a POST body to
// /api/v1/status (never in the URL, so they stay out of logs and browser history); the page
// shows only what that answer holds.
(function () {
  'use strict';
  const { h, replace, fmtDate, request } = window.carepath;
  const form = document.getElementById('status-form');
  const numberInput = document.getElementById('case_number');
  const codeInput = document.getElementById('access_code');
  const button = form.querySelector('button[type=submit]');
  const message = document.getElementById('status-message');
  const result = document.getElementById('status-result');

  // statusView is the one place that knows the field names of the POST /api/v1/status answer.
  function statusView(d) {
    return {
      number: d.case_number,
      stateLabel: d.state_label,
      stage: d.stage,
      stageCount: d.stage_count,
      since: d.state_entered_on,
      nextStep: d.next_step,
      nextStepBy: d.next_step_by,
      missing: Array.isArray(d.missing_documents) ? d.missing_documents : [],
      waitingPosition: d.waiting_position,
      waiting: d.waiting || null,
      phone: d.center_phone,
      missingWhere: Array.isArray(d.missing_where) ? d.missing_where : [],
      timeline: Array.isArray(d.timeline) ? d.timeline : [],
      voucherHome: d.voucher_home,
    };
  }

  const NOT_FOUND = 'Дело не найдено. Проверьте номер дела и код доступа: они указаны в уведомлении о регистрации заявления.';

  // serverSays is the Russian sentence of the answer's first reason (it names the center's
  // phone on a wrong code and on a lockout), or fallback.
  function serverSays(res, fallback) {
    const r = res.problem && Array.isArray(res.problem.reasons) && res.problem.reasons[0];
    return (r && r.message) || fallback;
  }

  function say(text, cls) {
    replace(message, text ? h('p', { class: cls || 'problem', id: 'status-error' }, text) : null);
  }

  function minutes(seconds) {
    const m = Math.ceil(seconds / 60);
    if (m <= 1) return 'через минуту';
    const mod10 = m % 10, mod100 = m % 100;
    const word = mod10 === 1 && mod100 !== 11 ? 'минуту' : mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14) ? 'минуты' : 'минут';
    return 'через ' + m + ' ' + word;
  }

  // waitEstimate is the wait as a range of months, from the admissions of the last year of the
  // same list (type of home and preferences), or why there is none.
  function waitEstimate(w) {
    if (!w) return null;
    const e = w.estimate, basis = w.estimate_basis || {};
    if (e && typeof e.from_months === 'number') {
      const word = e.to_months % 10 === 1 && e.to_months % 100 !== 11 ? 'месяца' : 'месяцев';
      return h('p', { class: 'queue', id: 'status-estimate' }, 'Ожидание места: ',
        h('strong', {}, (e.from_months === e.to_months ? 'около ' + e.to_months : 'от ' + e.from_months + ' до ' + e.to_months) + ' ' + word),
        h('span', { class: 'small muted' }, ' — оценка по числу поступлений за последний год из этой же очереди, не обещание.'));
    }
    return basis.reason ? h('p', { class: 'queue muted', id: 'status-estimate' }, basis.reason) : null;
  }

  function render(v) {
    const phone = v.phone ? h('a', { class: 'nowrap', href: 'tel:' + v.phone.replace(/[^+\d]/g, '') }, v.phone) : null;
    replace(result,
      h('p', { class: 'muted' }, 'Дело ', h('span', { class: 'mono', id: 'status-number' }, v.number)),
      h('h2', { id: 'status-state', class: 'status-state' }, v.stateLabel),
      v.since ? h('p', {}, 'В этом состоянии с ', fmtDate(v.since)) : null,
      v.stage > 0 && v.stageCount > 0 ? h('div', { class: 'stage' },
        h('p', { id: 'status-stage' }, 'Этап ' + v.stage + ' из ' + v.stageCount),
        h('ol', { class: 'stages', 'aria-hidden': 'true' },
          Array.from({ length: v.stageCount }, (_, i) => h('li', { class: i < v.stage ? 'done' : null })))) : null,
      v.waitingPosition ? h('p', { class: 'queue' }, 'Место в очереди: ', h('strong', { id: 'status-position' }, String(v.waitingPosition)),
        v.waiting && v.waiting.total ? ' из ' + v.waiting.total : null) : null,
      waitEstimate(v.waiting),
      v.voucherHome ? h('p', { class: 'voucher' }, 'Путёвка в учреждение: ', h('strong', { id: 'status-home' }, v.voucherHome)) : null,
      v.nextStep ? h('div', { class: 'next' },
        h('h3', {}, 'Что дальше'),
        h('p', { id: 'status-next' }, v.nextStep),
        v.nextStepBy ? h('p', {}, 'Срок: до ', h('strong', {}, fmtDate(v.nextStepBy))) : null) : null,
      v.missing.length ? h('div', { class: 'missing' },
        h('h3', {}, 'Каких документов не хватает'),
        h('ul', { id: 'status-missing' }, v.missing.map((m, i) => h('li', {}, m,
          v.missingWhere[i] ? h('span', { class: 'where small muted' }, ' — ' + v.missingWhere[i].where) : null)))) : null,
      v.timeline.length ? h('div', { class: 'timeline' },
        h('h3', {}, 'Пройденные этапы'),
        h('ol', { id: 'status-timeline' }, v.timeline.map((st) => h('li', {}, fmtDate(st.on), ' — ', st.label)))) : null,
      phone ? h('p', { class: 'phone' }, 'Вопросы по заявлению: координационный центр, ', phone) : null,
      contactForm(v.number));
    result.hidden = false;
  }

  // contactForm asks the home to put the family in touch with the resident. The case number and
  // access code of the lookup are the credential, sent again in the body.
  function contactForm(number) {
    const msg = h('div', { id: 'contact-message', role: 'status' });
    const input = (id, attrs) => h('input', Object.assign({ id, autocomplete: 'off' }, attrs || {}));
    const f = h('form', { id: 'contact-form', class: 'card', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const val = (id) => f.querySelector('#' + id).value.trim();
      const res = await request('POST', '/api/v1/status/contact-requests', { body: {
        case_number: number, access_code: codeInput.value.trim().toUpperCase(),
        name: val('contact-name'), relation: val('contact-relation'), phone: val('contact-phone'), message: val('contact-text') } });
      if (res.ok) {
        replace(msg, h('p', { class: 'flash', id: 'contact-done' }, 'Просьба передана в учреждение. Ответ — до ',
          h('strong', {}, fmtDate(res.data.due_on)), ' включительно; о результате придёт SMS.'));
        f.querySelector('button').disabled = true;
        return;
      }
      const reasons = (res.problem && res.problem.reasons) || [];
      replace(msg, h('p', { class: 'problem', id: 'contact-error' }, res.status === 409 && reasons.length ? serverSays(res, '')
        : res.status === 409 ? 'Связаться через центр можно, когда человек уже живёт в учреждении.'
        : res.status === 429 ? 'Слишком много просьб подряд. Попробуйте позже или позвоните в координационный центр.'
        : res.status === 400 ? serverSays(res, 'Проверьте, как заполнены поля.')
          : 'Не удалось передать просьбу. Позвоните в координационный центр.'));
    } },
    h('h3', {}, 'Связаться с проживающим'),
    h('p', { class: 'muted small' }, 'Если человек живёт в учреждении, мы попросим сотрудников помочь ему связаться с вами.'),
    h('div', { class: 'field' }, h('label', { for: 'contact-name' }, 'Ваше имя'), input('contact-name', { required: true, maxlength: 200 })),
    h('div', { class: 'field' }, h('label', { for: 'contact-relation' }, 'Кем вы приходитесь'), input('contact-relation', { required: true, maxlength: 100, placeholder: 'сын, дочь, племянница…' })),
    h('div', { class: 'field' }, h('label', { for: 'contact-phone' }, 'Ваш телефон'), input('contact-phone', { type: 'tel', required: true, maxlength: 40, placeholder: '8 916 123-45-67' })),
    h('div', { class: 'field' }, h('label', { for: 'contact-text' }, 'Что передать'), h('textarea', { id: 'contact-text', rows: 2, maxlength: 2000 })),
    h('button', { type: 'submit', class: 'primary' }, 'Попросить связаться'),
    msg);
    return f;
  }

  let blockedUntil = 0;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const number = numberInput.value.trim().toUpperCase();
    const code = codeInput.value.trim().toUpperCase();
    numberInput.value = number;
    numberInput.removeAttribute('aria-invalid');
    codeInput.removeAttribute('aria-invalid');
    result.hidden = true;
    replace(result);
    if (!number || !code) {
      const el = !number ? numberInput : codeInput;
      el.setAttribute('aria-invalid', 'true');
      say(!number ? 'Введите номер дела.' : 'Введите код доступа.');
      el.focus();
      return;
    }
    if (Date.now() < blockedUntil) {
      say('Слишком много неудачных попыток. Повторите ' + minutes((blockedUntil - Date.now()) / 1000) + ' или позвоните в координационный центр.');
      return;
    }
    button.disabled = true;
    say('Проверяем…', 'muted');
    const res = await request('POST', '/api/v1/status', { body: { case_number: number, access_code: code } });
    button.disabled = false;
    if (res.ok && res.data) {
      say('');
      render(statusView(res.data));
      result.focus();
      return;
    }
    switch (res.status) {
      case 404:
        say(serverSays(res, NOT_FOUND));
        break;
      case 429: {
        const wait = Math.max(1, parseInt(res.retryAfter, 10) || 60);
        blockedUntil = Date.now() + wait * 1000;
        say(serverSays(res, 'Слишком много неудачных попыток.') + ' Повторить можно ' + minutes(wait) + '.');
        break;
      }
      case 400: {
        const fieldName = res.problem && res.problem.field;
        if (fieldName === 'access_code') {
          codeInput.setAttribute('aria-invalid', 'true');
          say('Проверьте код доступа.');
        } else {
          numberInput.setAttribute('aria-invalid', 'true');
          say('Номер дела записывается так: KC-2026-000123.');
        }
        break;
      }
      default:
        say('Сервис временно недоступен. Попробуйте позже или позвоните в координационный центр.');
    }
  });
  result.setAttribute('tabindex', '-1');
})();

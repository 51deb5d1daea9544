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
      v.waitingPosition ? h('p', { class: 'queue' }, 'Место в очереди: ', h('strong', { id: 'status-position' }, String(v.waitingPosition))) : null,
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
      phone ? h('p', { class: 'phone' }, 'Вопросы по заявлению: координационный центр, ', phone) : null);
    result.hidden = false;
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

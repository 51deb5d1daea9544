'use strict';
// The lifecycle diagram at /console/lifecycle, drawn as SVG from GET /api/v1/lifecycle: the
// states of the main path in columns by stage, the states beside it under their stage, the final
// states in a row at the bottom, and each event an arrow. A table below says the same in words.
(function () {
  const { h, replace, problemBox } = window.carepath;
  const C = window.carepath.console;
  const NS = 'http://www.w3.org/2000/svg';
  const BOX_W = 150, BOX_H = 58, GAP_X = 64, GAP_Y = 78, PAD = 40;

  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
    for (const c of children.flat()) if (c !== null && c !== undefined) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    return el;
  }

  // layout gives each state a column and a row: the stage's column for the main path (several
  // states of one stage stacked), the column of the state leading to it for a side state, and
  // the bottom row for final states, each at the mean column of the states leading to it.
  function layout(states, events) {
    const pos = {};
    const used = new Set();
    const take = (name, col, row) => {
      while (used.has(col + ':' + row)) row++;
      used.add(col + ':' + row);
      pos[name] = { col, row };
    };
    for (const s of states) if (s.stage > 0) take(s.name, s.stage - 1, 0);
    const into = (name) => events.filter((e) => e.destination === name).flatMap((e) => e.sources).filter((x) => pos[x]);
    for (const s of states) {
      if (s.stage > 0 || s.terminal) continue;
      const from = into(s.name);
      take(s.name, from.length ? pos[from[0]].col : 0, 1);
    }
    const bottom = Math.max(...Object.values(pos).map((p) => p.row)) + 1;
    const cols = Math.max(...Object.values(pos).map((p) => p.col)) + 1;
    for (const s of states) {
      if (!s.terminal) continue;
      const from = into(s.name);
      let col = from.length ? Math.round(from.reduce((a, x) => a + pos[x].col, 0) / from.length) : 0;
      while (used.has(col + ':' + bottom)) col = col > 0 && used.has((col + 1) + ':' + bottom) ? col - 1 : Math.min(cols - 1, col + 1) === col ? col - 1 : col + 1;
      take(s.name, col, bottom);
    }
    return { pos, cols, rows: bottom + 1 };
  }

  function centre(p) {
    return { x: PAD + p.col * (BOX_W + GAP_X) + BOX_W / 2, y: PAD + p.row * (BOX_H + GAP_Y) + BOX_H / 2 };
  }

  // edgePoint is where the line from a box's centre towards (tx, ty) leaves the box.
  function edgePoint(c, tx, ty) {
    const dx = tx - c.x, dy = ty - c.y;
    const t = Math.min(dx ? (BOX_W / 2 + 3) / Math.abs(dx) : Infinity, dy ? (BOX_H / 2 + 3) / Math.abs(dy) : Infinity);
    return { x: c.x + dx * t, y: c.y + dy * t };
  }

  function wrap(text, max) {
    const words = text.split(' ');
    const lines = [''];
    for (const w of words) {
      const cur = lines[lines.length - 1];
      if (cur && (cur + ' ' + w).length > max) lines.push(w);
      else lines[lines.length - 1] = cur ? cur + ' ' + w : w;
    }
    return lines;
  }

  function draw(ref) {
    const { pos, cols, rows } = layout(ref.states, ref.events);
    const width = PAD * 2 + cols * BOX_W + (cols - 1) * GAP_X + 200; // room on the right for the last column's arcs and labels
    const height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
    const root = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, width, height, role: 'img', 'aria-labelledby': 'lc-title lc-desc', id: 'lifecycle-svg', class: 'lifecycle' },
      svg('title', { id: 'lc-title' }, 'Схема этапов дела'),
      svg('desc', { id: 'lc-desc' }, 'Этапы дела и события, которые переводят дело из одного этапа в другой. Та же схема словами — в таблице ниже.'),
      svg('defs', {}, svg('marker', { id: 'lc-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#4a5568' }))));
    const pairs = new Set(ref.events.flatMap((e) => e.sources.map((s) => s + '>' + e.destination)));
    const edges = svg('g', { class: 'edges' });
    const labels = svg('g', { class: 'edge-labels' });
    for (const e of ref.events) {
      const dests = [e.destination].concat(e.alternative_destination ? [e.alternative_destination] : []);
      e.sources.forEach((src, i) => dests.forEach((dst) => {
        if (!pos[src] || !pos[dst] || src === dst) return;
        const a = centre(pos[src]), b = centre(pos[dst]);
        // An arrow with one going back between the same two states bends to its own side.
        const back = pairs.has(dst + '>' + src);
        const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
        // On one row, an arrow forward arcs above the boxes and one back below, each named at its top.
        // In one column, arrows arc out to the right of the boxes: down ones wide, up ones close.
        const sameRow = pos[src].row === pos[dst].row;
        const sameCol = pos[src].col === pos[dst].col;
        const rows = Math.abs(pos[src].row - pos[dst].row);
        const down = pos[dst].row > pos[src].row;
        const bend = sameRow ? -74 : sameCol ? (down ? -(BOX_W / 2 + 40 + 36 * rows) : BOX_W / 2 + 10 + 20 * rows) : back ? 24 : 10;
        const cx = (a.x + b.x) / 2 + (-(b.y - a.y) / len) * bend, cy = (a.y + b.y) / 2 + ((b.x - a.x) / len) * bend;
        const p0 = edgePoint(a, cx, cy), p1 = edgePoint(b, cx, cy);
        const name = C.eventLabel(e.name);
        edges.appendChild(svg('path', { d: `M${p0.x.toFixed(1)},${p0.y.toFixed(1)} Q${cx.toFixed(1)},${cy.toFixed(1)} ${p1.x.toFixed(1)},${p1.y.toFixed(1)}`,
          fill: 'none', stroke: dst === e.destination ? '#4a5568' : '#a0aec0', 'stroke-width': 1.4, 'stroke-dasharray': dst === e.destination ? null : '5 4',
          'marker-end': 'url(#lc-arrow)', 'data-event': e.name, 'data-from': src, 'data-to': dst },
        svg('title', {}, C.stateLabel(src) + ' → ' + C.stateLabel(dst) + ': ' + name)));
        // Events from many states are named once, on their first arrow.
        if (i > 0 && e.sources.length > 2) return;
        const mx = 0.25 * p0.x + 0.5 * cx + 0.25 * p1.x, my = 0.25 * p0.y + 0.5 * cy + 0.25 * p1.y;
        const dy = sameRow ? (my < a.y ? -4 : 11) : 3;
        labels.appendChild(svg('text', { x: (mx + (sameCol ? 4 : 0)).toFixed(1), y: (my + dy).toFixed(1), 'text-anchor': sameCol ? 'start' : 'middle', 'font-size': 10.5,
          fill: '#2d3748', stroke: '#fff', 'stroke-width': 3.5, 'paint-order': 'stroke', 'stroke-linejoin': 'round' }, name));
      }));
    }
    const boxes = svg('g', { class: 'states' });
    for (const s of ref.states) {
      const p = pos[s.name];
      const x = PAD + p.col * (BOX_W + GAP_X), y = PAD + p.row * (BOX_H + GAP_Y);
      const kind = s.terminal ? 'final' : s.stage ? 'main' : 'side';
      const fill = { final: '#edf2f7', main: '#ebf4ff', side: '#fff5f5' }[kind];
      const stroke = { final: '#718096', main: '#2b6cb0', side: '#c53030' }[kind];
      const lines = wrap(C.stateLabel(s.name), 19);
      boxes.appendChild(svg('g', { 'data-state': s.name, class: 'state-box ' + kind },
        svg('rect', { x, y, width: BOX_W, height: BOX_H, rx: 8, fill, stroke, 'stroke-width': s.terminal ? 1.2 : 1.6 }),
        s.stage ? svg('text', { x: x + 6, y: y + 12, 'font-size': 9.5, fill: '#4a5568' }, 'этап ' + s.stage) : null,
        lines.map((l, i) => svg('text', { x: x + BOX_W / 2, y: y + BOX_H / 2 + 8 + (i - (lines.length - 1) / 2) * 14, 'text-anchor': 'middle',
          'font-size': 12.5, 'font-weight': 600, fill: '#1a202c' }, l))));
    }
    root.append(edges, boxes, labels);
    return root;
  }

  C.addPage(/^\/console\/lifecycle$/, async () => {
    C.setTitle('Схема этапов');
    const res = await C.api('GET', '/api/v1/lifecycle');
    if (!res.ok) { replace(C.main, h('h1', {}, 'Схема этапов'), problemBox(res)); return; }
    const ref = res.data;
    const byName = (n) => C.stateLabel(n);
    replace(C.main,
      h('h1', {}, 'Схема этапов дела'),
      h('p', { class: 'muted' }, 'Синие — путь от заявления до проживания в учреждении, красные — отступления от него, серые — завершение дела. ' +
        'Пунктир — особый случай: отмена путёвки при переводе возвращает дело к ожиданию перевода.'),
      h('div', { class: 'diagram', id: 'lifecycle', tabindex: '0', role: 'region', 'aria-label': 'Схема этапов (прокручивается)' }, draw(ref)),
      C.section('h-transitions', 'Переходы',
        h('table', { class: 'cases', id: 'transitions' },
          h('thead', {}, h('tr', {}, ['Событие', 'Из этапа', 'В этап'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ref.events.map((e) => h('tr', { dataset: { event: e.name } },
            C.cell('Событие', C.eventLabel(e.name)),
            C.cell('Из этапа', e.sources.map(byName).join(', ')),
            C.cell('В этап', byName(e.destination) + (e.alternative_destination ? ' или ' + byName(e.alternative_destination) : ''))))))));
  });
})();

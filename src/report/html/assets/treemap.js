// layersift report page: the treemap of the final filesystem, the layer filter and the copy
// buttons. Reads its data from the page's JSON block; makes no request.
(function () {
  'use strict';
  var dataEl = document.getElementById('layersift-data');
  if (!dataEl) { return; }
  var data = JSON.parse(dataEl.textContent);
  var box = document.getElementById('treemap');
  var crumbs = document.getElementById('crumbs');
  var legend = document.getElementById('treemap-legend');
  var isDiff = data.kind === 'diff';
  var mode = isDiff ? 'delta' : 'layer';
  var selected = null;
  var stack = [];
  var WASTE_COLOURS = ['#f0a030', '#b07cd8', '#e06c9f', '#7cc4d8', '#9aa86b'];
  var NEEDED = '#a9bddb';

  function human(n) {
    var units = ['kB', 'MB', 'GB', 'TB', 'PB'];
    if (n < 1000) { return n + ' B'; }
    var v = n / 1000, u = 0;
    while (v >= 999.95 && u + 1 < units.length) { v /= 1000; u++; }
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[u];
  }
  function signed(d) { return d === 0 ? '0 B' : (d > 0 ? '+' : '-') + human(Math.abs(d)); }
  function layerColour(l) { return 'hsl(' + ((l * 137.508) % 360).toFixed(1) + ',60%,64%)'; }
  function wasteOf(c) {
    if (!c.w) { return -1; }
    var best = -1, sum = 0;
    for (var i = 0; i < c.w.length; i++) { sum += c.w[i]; if (best < 0 || c.w[i] > c.w[best]) { best = i; } }
    return sum * 10 >= c.b ? best : -1;
  }
  var maxDelta = 1;
  function colour(c) {
    if (mode === 'waste') { var w = wasteOf(c); return w < 0 ? NEEDED : WASTE_COLOURS[w]; }
    if (mode === 'delta') {
      var d = c.d || 0;
      if (d === 0) { return '#b8bfca'; }
      var t = Math.min(1, Math.sqrt(Math.abs(d) / maxDelta));
      return d > 0 ? 'hsl(2,' + (40 + 45 * t) + '%,' + (78 - 26 * t) + '%)'
                   : 'hsl(145,' + (35 + 40 * t) + '%,' + (76 - 28 * t) + '%)';
    }
    return layerColour(c.l);
  }
  function pathOf(parent, c) { return parent === '/' ? '/' + c.n : parent + '/' + c.n; }
  function describe(c, path) {
    var lines = [c.n === undefined ? c.f + ' smaller files in ' + path : path,
      human(c.b) + ' (' + c.b.toLocaleString('en') + ' bytes), ' + c.f + (c.f === 1 ? ' file' : ' files')];
    var layer = data.layers[c.l];
    lines.push('layer ' + c.l + (layer ? ': ' + layer.instruction : ''));
    if (c.w) {
      var parts = [];
      for (var i = 0; i < c.w.length; i++) { if (c.w[i] > 0) { parts.push(data.waste[i] + ' ' + human(c.w[i])); } }
      if (parts.length) { lines.push('waste: ' + parts.join(', ')); }
    }
    if (c.p) { lines.push('package: ' + c.p); }
    if (isDiff && c.d !== undefined) { lines.push('change: ' + signed(c.d)); }
    return lines.join('\n');
  }

  // Squarified treemap (Bruls, Huizing, van Wijk): lays `items` (with .b) out in the rect.
  function squarify(items, x, y, w, h) {
    var out = [], total = 0, i;
    for (i = 0; i < items.length; i++) { total += items[i].b; }
    if (total <= 0 || w <= 0 || h <= 0) { return out; }
    var scale = (w * h) / total, rest = items.slice(), row = [];
    function worst(r, side) {
      var s = 0, mx = 0, mn = Infinity;
      for (var k = 0; k < r.length; k++) { var a = r[k].b * scale; s += a; mx = Math.max(mx, a); mn = Math.min(mn, a); }
      var s2 = s * s, side2 = side * side;
      return Math.max(side2 * mx / s2, s2 / (side2 * mn));
    }
    function place(r) {
      var s = 0, k;
      for (k = 0; k < r.length; k++) { s += r[k].b * scale; }
      if (w >= h) {
        var cw = s / h, cy = y;
        for (k = 0; k < r.length; k++) { var ch = r[k].b * scale / cw; out.push({ c: r[k], x: x, y: cy, w: cw, h: ch }); cy += ch; }
        x += cw; w -= cw;
      } else {
        var rh = s / w, cx = x;
        for (k = 0; k < r.length; k++) { var rw = r[k].b * scale / rh; out.push({ c: r[k], x: cx, y: y, w: rw, h: rh }); cx += rw; }
        y += rh; h -= rh;
      }
    }
    while (rest.length) {
      var side = Math.min(w, h), next = rest[0];
      if (row.length === 0 || worst(row.concat([next]), side) <= worst(row, side)) { row.push(rest.shift()); }
      else { place(row); row = []; }
    }
    if (row.length) { place(row); }
    return out;
  }

  function cellDiv(c, parentPath, r, via) {
    var d = document.createElement('div');
    var path = c.n === undefined ? parentPath : pathOf(parentPath, c);
    d.className = 'cell' + (c.dir ? ' dir' : '') + (c.n === undefined ? ' group' : '');
    if (c.n === undefined) { d.setAttribute('data-group-of', parentPath); }
    else { d.setAttribute('data-path', path); }
    d.setAttribute('data-bytes', String(c.b));
    d.setAttribute('data-layer', String(c.l));
    d.title = describe(c, path);
    d.style.left = r.x + 'px'; d.style.top = r.y + 'px';
    d.style.width = Math.max(0, r.w) + 'px'; d.style.height = Math.max(0, r.h) + 'px';
    d.style.backgroundColor = colour(c);
    if (selected !== null && c.l !== selected) { d.className += ' dim'; }
    if (r.w > 36 && r.h > 14) {
      var label = document.createElement('div');
      label.className = 'label';
      label.textContent = c.n === undefined ? c.f + ' files' : c.n + (c.dir ? '/' : '');
      d.appendChild(label);
      if (r.h > 30 && r.w > 50) {
        var size = document.createElement('div');
        size.className = 'size';
        size.textContent = isDiff && c.d ? human(c.b) + ' (' + signed(c.d) + ')' : human(c.b);
        d.appendChild(size);
      }
    }
    if (c.dir && c.k && c.k.length) {
      d.addEventListener('click', function (ev) {
        ev.stopPropagation();
        if (via) { stack.push(via); }
        zoom(c, path);
      });
    }
    return { el: d, path: path };
  }

  function draw() {
    if (!box) { return; }
    var top = stack[stack.length - 1];
    box.textContent = '';
    var W = box.clientWidth, H = box.clientHeight;
    var kids = (top.c.k || []).filter(function (k) { return k.b > 0; });
    squarify(kids, 0, 0, W, H).forEach(function (r) {
      var made = cellDiv(r.c, top.path, r);
      box.appendChild(made.el);
      // One nested level when there is room: the directory's own largest entries.
      if (r.c.dir && r.c.k && r.c.k.length && r.w > 90 && r.h > 60) {
        squarify(r.c.k.filter(function (k) { return k.b > 0; }), 2, 30, r.w - 6, r.h - 34).forEach(function (q) {
          if (q.w < 3 || q.h < 3) { return; }
          made.el.appendChild(cellDiv(q.c, made.path, q, { c: r.c, path: made.path }).el);
        });
      }
    });
    drawCrumbs();
    drawLegend();
  }

  // A directory whose only entry is another directory (`/usr` → `/usr/lib`) says nothing
  // as a cell: go down such chains so the first view shows where the bytes split.
  function descend() {
    for (;;) {
      var top = stack[stack.length - 1], kids = top.c.k || [];
      if (kids.length !== 1 || !kids[0].dir || !kids[0].k || !kids[0].k.length) { return; }
      stack.push({ c: kids[0], path: pathOf(top.path, kids[0]) });
    }
  }
  function zoom(c, path) { stack.push({ c: c, path: path }); descend(); draw(); }

  function drawCrumbs() {
    if (!crumbs) { return; }
    crumbs.textContent = '';
    stack.forEach(function (s, i) {
      var label = i === 0 ? '/' : s.path.slice(s.path.lastIndexOf('/') + 1) + '/';
      if (i < stack.length - 1) {
        var a = document.createElement('a');
        a.textContent = label;
        a.addEventListener('click', function () { stack = stack.slice(0, i + 1); draw(); });
        crumbs.appendChild(a);
      } else {
        var b = document.createElement('strong');
        b.textContent = label;
        crumbs.appendChild(b);
      }
      if (i < stack.length - 1) { crumbs.appendChild(document.createTextNode(' › ')); }
    });
    crumbs.appendChild(document.createTextNode('  ' + human(stack[stack.length - 1].c.b)));
  }

  function swatch(colourValue, text) {
    var s = document.createElement('span');
    s.className = 'swatch';
    s.style.backgroundColor = colourValue;
    legend.appendChild(s);
    legend.appendChild(document.createTextNode(text));
  }
  function drawLegend() {
    if (!legend) { return; }
    legend.textContent = '';
    if (mode === 'waste') {
      swatch(NEEDED, 'needed');
      data.waste.forEach(function (w, i) { swatch(WASTE_COLOURS[i], w); });
    } else if (mode === 'delta') {
      swatch('hsl(2,85%,52%)', 'grew'); swatch('hsl(145,75%,48%)', 'shrank'); swatch('#b8bfca', 'unchanged');
    } else {
      data.layers.forEach(function (l) { swatch(layerColour(l.index), 'layer ' + l.index); });
    }
  }

  // Clicking a layer shows only what it shipped, everywhere on the page.
  function filterLayer(n) {
    selected = selected === n ? null : n;
    var rows = document.querySelectorAll('[data-layer]');
    for (var i = 0; i < rows.length; i++) {
      var el = rows[i];
      if (el.classList.contains('cell')) { continue; }
      if (el.classList.contains('layer')) {
        el.classList.toggle('selected', selected !== null && Number(el.getAttribute('data-layer')) === selected);
        continue;
      }
      el.hidden = selected !== null && Number(el.getAttribute('data-layer')) !== selected;
    }
    var sugg = document.querySelectorAll('[data-layers]');
    for (var j = 0; j < sugg.length; j++) {
      var ls = sugg[j].getAttribute('data-layers').split(' ').map(Number);
      sugg[j].hidden = selected !== null && ls.indexOf(selected) < 0;
    }
    var note = document.getElementById('filter-note');
    if (note) {
      note.hidden = selected === null;
      note.textContent = selected === null ? '' : 'Showing layer ' + selected + ' only. Click it again to show all.';
    }
    draw();
  }
  var picks = document.querySelectorAll('[data-layer-select]');
  for (var p = 0; p < picks.length; p++) {
    picks[p].addEventListener('click', (function (n) { return function () { filterLayer(n); }; })(Number(picks[p].getAttribute('data-layer-select'))));
  }

  // Copy buttons for snippets.
  var copies = document.querySelectorAll('button.copy');
  for (var q = 0; q < copies.length; q++) {
    copies[q].hidden = false;
    copies[q].addEventListener('click', function (ev) {
      var pre = document.getElementById(ev.currentTarget.getAttribute('data-copy'));
      var text = pre ? pre.textContent : '';
      var btn = ev.currentTarget;
      var done = function () { btn.textContent = 'Copied'; setTimeout(function () { btn.textContent = 'Copy'; }, 1200); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var range = document.createRange(); range.selectNodeContents(pre);
        var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        try { document.execCommand('copy'); done(); } catch (e) { /* selection stays for the user */ }
      }
    });
  }

  if (box && data.tree) {
    var controls = document.querySelector('.controls');
    if (controls) { controls.hidden = false; }
    var radios = document.querySelectorAll('input[name=colour]');
    for (var r = 0; r < radios.length; r++) {
      radios[r].addEventListener('change', function (ev) { mode = ev.target.value; draw(); });
    }
    (function scan(c) { if (c.d) { maxDelta = Math.max(maxDelta, Math.abs(c.d)); } (c.k || []).forEach(scan); })(data.tree);
    stack = [{ c: data.tree, path: '/' }];
    descend();
    draw();
    var pending = null;
    window.addEventListener('resize', function () {
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(draw, 120);
    });
  }
})();

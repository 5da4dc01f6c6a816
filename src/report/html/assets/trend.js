// layersift size-history page: one SVG line chart per image, with the values of the
// nearest record on hover and a toggle per series. Reads the page's JSON block; no request.
(function () {
  'use strict';
  var dataEl = document.getElementById('layersift-data');
  if (!dataEl) { return; }
  var data = JSON.parse(dataEl.textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var SERIES = [
    { key: 'content', field: 'content_bytes', colour: '#4c8bf5' },
    { key: 'compressed', field: 'compressed_bytes', colour: '#2e9e5b' },
    { key: 'waste', field: 'waste_bytes', colour: '#d9534f' }
  ];
  var tip = document.createElement('div');
  tip.className = 'tip';
  tip.hidden = true;
  document.body.appendChild(tip);

  function human(n) {
    var units = ['kB', 'MB', 'GB', 'TB', 'PB'];
    if (n < 1000) { return n + ' B'; }
    var v = n / 1000, u = 0;
    while (v >= 999.95 && u + 1 < units.length) { v /= 1000; u++; }
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[u];
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function draw(svg, series, shown) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var W = svg.clientWidth || 800, H = svg.clientHeight || 360;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var L = 70, R = 16, T = 14, B = 34;
    var recs = series.records;
    var max = 1;
    SERIES.forEach(function (s) {
      if (!shown[s.key]) { return; }
      recs.forEach(function (r) { max = Math.max(max, r[s.field]); });
    });
    var n = recs.length;
    function x(i) { return n <= 1 ? L + (W - L - R) / 2 : L + i * (W - L - R) / (n - 1); }
    function y(v) { return T + (H - T - B) * (1 - v / max); }
    for (var g = 0; g <= 4; g++) {
      var v = max * g / 4;
      el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), 'class': 'axis', 'stroke-opacity': g === 0 ? 1 : 0.25 }, svg);
      el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg).textContent = human(Math.round(v));
    }
    var step = Math.max(1, Math.ceil(n / 6));
    recs.forEach(function (r, i) {
      if (i % step === 0 || i === n - 1) {
        el('text', { x: x(i), y: H - 12, 'text-anchor': 'middle' }, svg).textContent = r.time.slice(0, 10);
      }
    });
    SERIES.forEach(function (s) {
      if (!shown[s.key]) { return; }
      var d = recs.map(function (r, i) { return (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(r[s.field]).toFixed(1); }).join(' ');
      el('path', { d: d, 'class': 'series', stroke: s.colour }, svg);
      recs.forEach(function (r, i) {
        el('circle', { cx: x(i), cy: y(r[s.field]), r: 3.5, fill: s.colour, 'class': 'dot' }, svg);
      });
    });
    var hover = el('line', { y1: T, y2: H - B, 'class': 'axis', visibility: 'hidden' }, svg);
    svg.onmousemove = function (ev) {
      var box = svg.getBoundingClientRect();
      var px = (ev.clientX - box.left) * W / box.width;
      var best = 0;
      for (var i = 1; i < n; i++) { if (Math.abs(x(i) - px) < Math.abs(x(best) - px)) { best = i; } }
      var r = recs[best];
      hover.setAttribute('x1', x(best)); hover.setAttribute('x2', x(best));
      hover.setAttribute('visibility', 'visible');
      tip.textContent = r.time + '\n' + r.reference + (r.digest ? '\n' + r.digest.slice(0, 19) + '…' : '') +
        '\ncontent     ' + human(r.content_bytes) + '\ncompressed  ' + human(r.compressed_bytes) +
        '\nwaste       ' + human(r.waste_bytes) + '\nefficiency  ' + (r.efficiency * 100).toFixed(1) + '%' +
        '\nlayers      ' + r.layer_count;
      tip.hidden = false;
      tip.style.left = (ev.clientX + 14) + 'px';
      tip.style.top = (ev.clientY + 14) + 'px';
    };
    svg.onmouseleave = function () { tip.hidden = true; hover.setAttribute('visibility', 'hidden'); };
  }

  var sections = document.querySelectorAll('section.series');
  for (var i = 0; i < sections.length; i++) {
    (function (section, series) {
      var svg = section.querySelector('svg.chart');
      var controls = section.querySelector('.controls');
      var shown = { content: true, compressed: true, waste: true };
      if (controls) {
        controls.hidden = false;
        var boxes = controls.querySelectorAll('input[data-series]');
        for (var b = 0; b < boxes.length; b++) {
          boxes[b].addEventListener('change', function (ev) {
            shown[ev.target.getAttribute('data-series')] = ev.target.checked;
            draw(svg, series, shown);
          });
        }
      }
      draw(svg, series, shown);
      window.addEventListener('resize', function () { draw(svg, series, shown); });
    })(sections[i], data.series[i]);
  }
})();

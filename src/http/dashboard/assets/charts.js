// The compliance charts (uPlot). A page marks a chart's place with data-chart="<id of a JSON block>":
// { x: [unix seconds], labels: [..], series: [{ label, values: [percent] }], yLabel }. The same figures
// are on the page as a table (for screen readers and without scripts); this draws them.
(function () {
  'use strict';
  var COLOURS = ['#c0392b', '#d68910', '#2e6da4', '#1e8449'];

  function draw(place) {
    var source = document.getElementById(place.getAttribute('data-chart'));
    if (!source || typeof uPlot === 'undefined') return;
    var data = JSON.parse(source.textContent || '{}');
    if (!data.x || data.x.length === 0) return;
    var labels = data.labels || [];
    var width = function () { return Math.max(280, place.clientWidth || 600); };
    var opts = {
      width: width(),
      height: 260,
      padding: [12, 44, 0, 0],
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [
        { values: function (u, splits) { return splits.map(function (i) { return labels[Math.round(i)] || ''; }); }, space: 90 },
        { label: data.yLabel || '', values: function (u, splits) { return splits.map(function (v) { return v + '%'; }); } },
      ],
      legend: { show: true },
      series: [{ label: data.xLabel || '', value: function (u, i) { return i == null ? '' : (labels[Math.round(i)] || ''); } }].concat(data.series.map(function (s, i) {
        return { label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true, size: 6 }, value: function (u, v) { return v == null ? '—' : v + '%'; } };
      })),
    };
    var values = [data.x.map(function (_, i) { return i; })].concat(data.series.map(function (s) { return s.values; }));
    place.textContent = '';
    var chart = new uPlot(opts, values, place);
    place.setAttribute('data-drawn', 'true');
    if (typeof ResizeObserver !== 'undefined') {
      var last = width();
      new ResizeObserver(function () {
        var w = width();
        if (w !== last) { last = w; chart.setSize({ width: w, height: 260 }); }
      }).observe(place);
    }
  }

  function start() {
    var places = document.querySelectorAll('[data-chart]:not([data-drawn])');
    for (var i = 0; i < places.length; i++) draw(places[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  // A chart that arrives later (the trend, loaded by htmx after the page has painted).
  document.addEventListener('htmx:afterSettle', start);
})();

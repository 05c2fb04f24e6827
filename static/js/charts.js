/* Draws every dashboard chart from its <script type="application/json" class="chart-data">
   element with Plotly.newPlot. No inline script: the Content-Security-Policy stays strict. */
(function () {
  'use strict';

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : {};
  }

  function draw() {
    if (!window.Plotly) { return; }
    var cfg = readJSON('plotly-config');
    var locales = cfg.locales || {};
    Object.keys(locales).forEach(function (name) {
      window.Plotly.register({
        moduleType: 'locale', name: name,
        dictionary: locales[name].dictionary, format: locales[name].format
      });
    });
    var nodes = document.querySelectorAll('script.chart-data');
    Array.prototype.forEach.call(nodes, function (node) {
      var target = document.getElementById(node.getAttribute('data-target'));
      if (!target) { return; }
      var fig = JSON.parse(node.textContent);
      window.Plotly.newPlot(target, fig.data, fig.layout, {
        responsive: true,
        displaylogo: false,
        locale: cfg.locale || 'en',
        modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d', 'toggleSpikelines'],
        toImageButtonOptions: {
          format: 'png', scale: 2,
          filename: node.getAttribute('data-filename') || 'chart'
        }
      });
    });
  }

  // Charts follow the page width when printing (then back to the screen width).
  function resizeAll() {
    if (!window.Plotly) { return; }
    Array.prototype.forEach.call(document.querySelectorAll('.chart.js-plotly-plot'),
      function (el) { window.Plotly.Plots.resize(el); });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
  window.addEventListener('beforeprint', resizeAll);
  window.addEventListener('afterprint', resizeAll);
}());

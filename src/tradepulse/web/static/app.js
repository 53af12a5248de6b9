// Render every Vega-Lite spec on the page with the vendored vega-embed (no network access needed).
(function () {
  function render() {
    var charts = document.querySelectorAll('.chart[data-spec]');
    charts.forEach(function (el) {
      var src = document.getElementById(el.getAttribute('data-spec'));
      if (!src || typeof vegaEmbed === 'undefined') { el.setAttribute('data-rendered', 'error'); return; }
      var spec = JSON.parse(src.textContent);
      vegaEmbed(el, spec, {renderer: 'svg', actions: {export: true, source: false, compiled: false, editor: false}})
        .then(function (result) { el.__view = result.view; el.setAttribute('data-rendered', 'ok'); })
        .catch(function (err) { el.setAttribute('data-rendered', 'error'); el.textContent = String(err); });
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', render); } else { render(); }
})();

/*
 * Selfkind charts: the one script that draws every Plotly figure on a page.
 *
 * Template contract
 * -----------------
 * The server builds each figure as a plain {"data": [...], "layout": {...}} dict
 * (tracking/charts.py) and a template emits it as JSON next to an empty chart element:
 *
 *   {% load static %}
 *   <figure>
 *     <div class="sk-chart" data-figure="sk-entries-weekly" role="img"
 *          aria-label="{{ chart.caption }}"></div>
 *     <figcaption>{{ chart.caption }}</figcaption>
 *   </figure>
 *   {{ chart.figure|json_script:"sk-entries-weekly" }}
 *   ... table alternative, rendered by the template from chart.table ...
 *
 *   <!-- once per page, at the end of <body> or in <head> with defer, in this order: -->
 *   <script src="{% static 'vendor/plotly/plotly.min.js' %}" defer></script>
 *   <script src="{% static 'js/charts.js' %}" defer></script>
 *
 * - data-figure holds the id of a <script type="application/json"> element (what Django's
 *   json_script filter writes). Its JSON may also carry a "config" object, merged over the
 *   defaults below; the Plotly logo stays off whatever it says.
 * - Nothing inline: no inline handlers, no eval, no HTML strings; this file works under
 *   script-src 'self'. Plotly's own stylesheet needs one extra step under style-src 'self'
 *   (see docs or the report on CSP): a static copy of its rules linked as
 *   <link rel="stylesheet" id="plotly.js-style-global" class="no-inline-styles" href="...">.
 * - A drawn element gets the class "sk-chart--drawn"; one that cannot be drawn (Plotly not
 *   loaded, missing or invalid JSON) gets "sk-chart--failed", so CSS can show the table instead.
 *   Each element is drawn once; one inside a closed <details> is drawn when it opens.
 * - window.SelfkindCharts.drawAll(root) draws charts inside content added later.
 */
(function () {
  "use strict";

  var DEFAULT_CONFIG = {
    displaylogo: false,
    displayModeBar: false,
    responsive: true,
    scrollZoom: false,
  };

  function readFigure(id) {
    var source = id ? document.getElementById(id) : null;
    if (!source || source.type !== "application/json") {
      return null;
    }
    try {
      var figure = JSON.parse(source.textContent);
      return figure && Array.isArray(figure.data) ? figure : null;
    } catch (error) {
      return null;
    }
  }

  function fail(element, reason) {
    element.classList.add("sk-chart--failed");
    if (window.console) {
      window.console.warn("Selfkind chart not drawn (" + reason + "):", element.dataset.figure);
    }
  }

  function draw(element) {
    if (element.dataset.drawn) {
      return;
    }
    element.dataset.drawn = "true";
    if (typeof window.Plotly === "undefined") {
      fail(element, "Plotly is not loaded");
      return;
    }
    var figure = readFigure(element.dataset.figure);
    if (!figure) {
      fail(element, "no figure JSON");
      return;
    }
    var config = Object.assign({}, DEFAULT_CONFIG, figure.config || {}, { displaylogo: false });
    window.Plotly.newPlot(element, figure.data, figure.layout || {}, config).then(
      function () {
        element.classList.add("sk-chart--drawn");
      },
      function (error) {
        fail(element, String(error));
      }
    );
  }

  function drawAll(root) {
    var elements = (root || document).querySelectorAll(".sk-chart[data-figure]");
    Array.prototype.forEach.call(elements, function (element) {
      // A chart folded inside a closed <details> has no width yet: draw it when it opens.
      var folded = element.closest("details:not([open])");
      if (folded) {
        folded.addEventListener("toggle", function () {
          if (folded.open) {
            draw(element);
          }
        });
        return;
      }
      draw(element);
    });
  }

  window.SelfkindCharts = { drawAll: drawAll };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  } else {
    drawAll(document);
  }
})();

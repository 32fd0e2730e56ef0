// Sonde dashboard: draws each chart of the page with uPlot from the JSON
// block beside it (<script type="application/json" id="data-NAME">), sized to
// its container and redrawn when the container's width changes. The numbers
// are also in the page's tables; this script only draws.
(function () {
  "use strict";

  var COLOURS = ["#2f6fb0", "#e0893a", "#4b9a6a", "#b5485d", "#7a62b3", "#8a8f98", "#3a9aa8", "#b08a2f"];
  var CI_COLOUR = "#9aa3ad";
  var ERROR_COLOUR = "#c8423b";

  function colour(i) {
    return COLOURS[i % COLOURS.length];
  }

  // "YYYY-MM-DD" as Unix seconds at 00:00 UTC.
  function day(s) {
    var p = s.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 1000;
  }

  function height(el) {
    return el.clientWidth < 500 ? 200 : 260;
  }

  function axisColours() {
    return { stroke: "#4a5260", grid: { stroke: "#e6e9ee", width: 1 }, ticks: { stroke: "#e6e9ee", width: 1 } };
  }

  function withAxis(extra) {
    var a = axisColours();
    for (var k in extra) a[k] = extra[k];
    return a;
  }

  function utc(ts) {
    return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
  }

  function line(data, width, h) {
    var series = [{}];
    data.series.forEach(function (s, i) {
      series.push({
        label: s.label,
        // Humans, CI (grey, dashed), then the rolling window (its own colour).
        stroke: i === 1 ? CI_COLOUR : colour(i),
        width: i === 1 ? 1.5 : 2,
        dash: i === 1 ? [4, 4] : undefined,
        spanGaps: false,
        points: { show: data.x.length <= 45 }
      });
    });
    return {
      opts: {
        width: width, height: h, tzDate: utc, series: series,
        scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
        axes: [withAxis({}), withAxis({ size: 48 })]
      },
      rows: [data.x.map(day)].concat(data.series.map(function (s) { return s.values; }))
    };
  }

  // Shares stacked: series i is drawn as the sum of series 0..i, the largest
  // sum first, so each band shows one version; the legend shows the share.
  function stacked(data, width, h) {
    var n = data.series.length;
    var sums = [];
    var acc = data.x.map(function () { return 0; });
    data.series.forEach(function (s) {
      acc = acc.map(function (a, j) { return s.values[j] == null ? null : (a || 0) + s.values[j]; });
      sums.push(acc.slice());
    });
    var series = [{}];
    var rows = [data.x.map(day)];
    for (var i = n - 1; i >= 0; i--) {
      (function (i) {
        series.push({
          label: data.series[i].label,
          stroke: colour(i),
          fill: colour(i),
          width: 1,
          points: { show: false },
          value: function (u, v, si, idx) {
            var raw = idx == null ? null : data.series[i].values[idx];
            return raw == null ? "–" : raw.toFixed(1) + "%";
          }
        });
        rows.push(sums[i]);
      })(i);
    }
    return {
      opts: {
        width: width, height: h, tzDate: utc, series: series,
        scales: { y: { range: [0, 100] } },
        axes: [withAxis({}), withAxis({ size: 48, values: function (u, v) { return v.map(function (x) { return x + "%"; }); } })]
      },
      rows: rows
    };
  }

  function bars(data, width, h) {
    var labels = data.x;
    var short = function (s) { return s.length > 14 ? s.slice(0, 13) + "…" : s; };
    var series = [{
      label: "",
      value: function (u, v) { return v == null ? "" : labels[v]; }
    }];
    data.series.forEach(function (s, i) {
      series.push({
        label: s.label,
        stroke: i === 0 ? colour(0) : ERROR_COLOUR,
        fill: i === 0 ? colour(0) : ERROR_COLOUR,
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars({ size: [0.6, 64], align: 0 })
      });
    });
    return {
      opts: {
        width: width, height: h, series: series,
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: false, range: [-0.5, labels.length - 0.5] },
          y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } }
        },
        axes: [
          withAxis({
            splits: function () { return labels.map(function (_, i) { return i; }); },
            values: function (u, v) { return v.map(function (i) { return labels[i] == null ? "" : short(labels[i]); }); },
            gap: 6
          }),
          withAxis({ size: 48 })
        ]
      },
      rows: [labels.map(function (_, i) { return i; })].concat(data.series.map(function (s) { return s.values; }))
    };
  }

  var KINDS = { line: line, stacked: stacked, bars: bars };

  function draw(el) {
    var block = document.getElementById("data-" + el.getAttribute("data-chart"));
    if (!block) return;
    var data = JSON.parse(block.textContent);
    var make = KINDS[data && data.kind];
    if (!make) return;
    el.classList.add(data.kind);
    var width = Math.max(200, el.clientWidth);
    var built = make(data, width, height(el));
    var plot = new uPlot(built.opts, built.rows, el);
    var last = width;
    var resize = function () {
      var w = Math.max(200, el.clientWidth);
      if (w !== last) {
        last = w;
        plot.setSize({ width: w, height: height(el) });
      }
    };
    if (window.ResizeObserver) {
      new ResizeObserver(resize).observe(el);
    } else {
      window.addEventListener("resize", resize);
    }
  }

  function start() {
    var charts = document.querySelectorAll(".chart[data-chart]");
    for (var i = 0; i < charts.length; i++) draw(charts[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

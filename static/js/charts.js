/* Charts of the site, drawn with the vendored Chart.js from data the page embeds (json_script).
   Every chart has a table with the same figures next to it, for readers who cannot see it. */
(function () {
  "use strict";
  if (!window.Chart) return;

  var INK = "#1f2328";
  var MUTED = "#57606a";
  var GRID = "#e6e8eb";
  // The accent first; the others keep at least 3:1 against white for lines.
  var PALETTE = ["#1a5fb4", "#b54708", "#1f7a4d", "#8e3a9e", "#8a6d00", "#b3261e", "#00687a", "#5b5b5b"];
  var day = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  var minute = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC",
  });
  var pct = function (x) { return (Math.round(x * 10) / 10) + "%"; };

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = MUTED;
  Chart.defaults.animation = false;

  var DAY = 864e5;

  // Ticks on UTC midnights, at most about five, so the dates read as days rather than instants.
  function dayTicks(min, max) {
    var span = (max - min) / DAY;
    var steps = [1, 2, 7, 14, 30, 61, 91, 182, 365];
    var step = steps.filter(function (s) { return span / s <= 5; })[0] || 365 * Math.ceil(span / 1825);
    var ticks = [];
    for (var t = Math.ceil(min / DAY) * DAY; t <= max; t += step * DAY) ticks.push({ value: t });
    return ticks;
  }

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // A crowd value holds from its time until the next point: draw it as steps, with a gap while
  // nobody has a standing forecast (a null value). Values are multiplied by `scale` (default 100:
  // probabilities as percentages).
  function steps(points, k, end, scale) {
    var factor = scale === undefined ? 100 : scale;
    var out = [];
    points.forEach(function (p, i) {
      var y = p.p === null ? null : p.p[k] * factor;
      var until = i + 1 < points.length ? points[i + 1].t : end;
      out.push({ x: p.t, y: y });
      if (y !== null && until > p.t) out.push({ x: until, y: y });
    });
    return out;
  }

  // The x axis of a crowd history: days from the open (or the first point) to the end, with a
  // little room after it so that the latest step shows.
  function crowdTimeAxis(data) {
    var first = data.points[0].t;
    var xmin = Math.min(first, data.open);
    var xmax = Math.max(data.end, first + DAY);
    return {
      type: "linear",
      min: xmin,
      max: xmax + (xmax - xmin) * 0.02,
      grid: { color: GRID },
      afterBuildTicks: function (axis) { axis.ticks = dayTicks(axis.min, axis.max); },
      ticks: { autoSkip: false, maxRotation: 0, callback: function (v) { return day.format(new Date(v)); } },
    };
  }

  // A chart of values over time: `x` the time axis, `y` the value axis; tooltips titled with the
  // instant in UTC.
  function timeChart(canvas, datasets, x, y, plugins) {
    plugins.tooltip.callbacks.title = function (items) {
      return items.length ? minute.format(new Date(items[0].parsed.x)) + " UTC" : "";
    };
    return new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: { x: x, y: y },
        plugins: plugins,
      },
    });
  }

  // The reader's own forecasts as dots over the crowd's line.
  function mineDots(label, points) {
    return {
      type: "scatter",
      label: label,
      data: points,
      borderColor: "#ffffff",
      backgroundColor: INK,
      borderWidth: 1.5,
      pointRadius: 4.5,
      pointHoverRadius: 6,
      pointStyle: "circle",
    };
  }

  // A numeric or date question: the crowd's median as steps, shaded between its 25% and 75%
  // quantiles, values on the y axis in the question's unit (or as dates), and the reader's medians
  // as dots. Values are formatted by distribution.js (loaded first on those pages), from the
  // page's "distribution-meta".
  function continuousChart(data, canvas) {
    var lib = window.SignpostDistribution;
    var meta = readJSON("distribution-meta");
    if (!lib || !meta) return;
    var units = new lib.Units(meta);
    var series = function (k) {
      return steps(data.points.map(function (p) { return { t: p.t, p: p.q }; }), k, data.end, 1);
    };
    var band = "rgba(26, 95, 180, 0.16)";
    var datasets = [
      { label: "25%", data: series(0), borderWidth: 0, pointRadius: 0, pointHitRadius: 0, fill: false, spanGaps: false },
      { label: "75%", data: series(2), borderWidth: 0, pointRadius: 0, pointHitRadius: 0, fill: "-1", backgroundColor: band, spanGaps: false },
      {
        label: "Crowd median", data: series(1), borderColor: PALETTE[0], backgroundColor: PALETTE[0], borderWidth: 2,
        pointRadius: 0, pointHoverRadius: 4, pointHitRadius: 8, spanGaps: false, fill: false, pointStyle: "line",
      },
    ];
    if (data.mine && data.mine.length) {
      datasets.push(mineDots("Your medians", data.mine.map(function (m) { return { x: m.t, y: m.m }; })));
    }
    var labels = {};
    timeChart(canvas, datasets, crowdTimeAxis(data), {
      min: meta.lower, max: meta.upper, grid: { color: GRID },
      afterBuildTicks: function (axis) {
        axis.ticks = units.ticks(5).map(function (t) { labels[t.v] = t.label; return { value: t.v }; });
      },
      ticks: { callback: function (v) { return labels[v] !== undefined ? labels[v] : units.format(v); } },
    }, {
      legend: {
        display: true, position: "bottom",
        labels: { color: INK, usePointStyle: true, boxWidth: 16, filter: function (item) { return item.datasetIndex >= 2; } },
      },
      tooltip: {
        filter: function (item) { return item.datasetIndex >= 2 && item.parsed.y !== null; },
        callbacks: {
          label: function (item) {
            if (item.datasetIndex === 3) return " Your median: " + units.format(item.parsed.y);
            var lo = datasets[0].data[item.dataIndex], hi = datasets[1].data[item.dataIndex];
            return [" Crowd median: " + units.format(item.parsed.y),
              " Half between " + units.format(lo.y) + " and " + units.format(hi.y)];
          },
        },
      },
    });
  }

  function crowdChart() {
    var data = readJSON("crowd-data");
    var canvas = document.getElementById("crowd-chart");
    if (!data || !canvas || !data.points.length) return;
    if (data.type === "numeric" || data.type === "date") return continuousChart(data, canvas);
    var binary = data.type === "binary";
    var series = binary ? [0] : data.labels.map(function (_, i) { return i; });
    var datasets = series.map(function (k) {
      var colour = PALETTE[k % PALETTE.length];
      return {
        label: binary ? "Crowd median" : data.labels[k],
        pointStyle: "line",
        data: steps(data.points, k, data.end),
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: 2,
        pointRadius: 0,
        pointHoverRadius: 4,
        pointHitRadius: 8,
        spanGaps: false,
        fill: false,
      };
    });
    if (binary && data.mine && data.mine.length) {
      datasets.push(mineDots("Your forecasts", data.mine.map(function (m) { return { x: m.t, y: m.p * 100 }; })));
    }
    timeChart(canvas, datasets, crowdTimeAxis(data), {
      min: 0,
      max: 100,
      grid: { color: GRID },
      ticks: { stepSize: 25, callback: function (v) { return v + "%"; } },
    }, {
      legend: { display: datasets.length > 1, position: "bottom", labels: { color: INK, usePointStyle: true, boxWidth: 16 } },
      tooltip: {
        filter: function (item) { return item.parsed.y !== null; },
        callbacks: {
          label: function (item) { return " " + item.dataset.label + ": " + pct(item.parsed.y); },
        },
      },
    });
  }

  // Draws each bin as a faint segment across its interval [lower, upper) at the observed
  // frequency, and its 95% Wilson interval as a vertical whisker, beneath the points.
  var binsPlugin = {
    id: "calibrationBins",
    beforeDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var x = chart.scales.x;
      var y = chart.scales.y;
      chart.data.datasets.forEach(function (ds, i) {
        if (!ds.bins || !chart.isDatasetVisible(i)) return;
        ds.data.forEach(function (pt) {
          var px = x.getPixelForValue(pt.x);
          ctx.save();
          ctx.strokeStyle = ds.borderColor;
          ctx.globalAlpha = 0.25;
          ctx.lineWidth = 6;
          ctx.beginPath();
          ctx.moveTo(x.getPixelForValue(pt.lower), y.getPixelForValue(pt.y));
          ctx.lineTo(x.getPixelForValue(pt.upper), y.getPixelForValue(pt.y));
          ctx.stroke();
          ctx.globalAlpha = 1;
          ctx.lineWidth = 1.5;
          var lo = y.getPixelForValue(pt.lo);
          var hi = y.getPixelForValue(pt.hi);
          ctx.beginPath();
          ctx.moveTo(px, lo); ctx.lineTo(px, hi);
          ctx.moveTo(px - 4, lo); ctx.lineTo(px + 4, lo);
          ctx.moveTo(px - 4, hi); ctx.lineTo(px + 4, hi);
          ctx.stroke();
          ctx.restore();
        });
      });
    },
  };

  function calibrationChart() {
    var data = readJSON("calibration-data");
    var canvas = document.getElementById("calibration-chart");
    if (!data || !canvas) return;
    var points = data.bins.filter(function (b) { return b.count > 0; }).map(function (b) {
      return {
        x: b.mean_forecast * 100, y: b.observed_frequency * 100,
        lo: b.wilson_low * 100, hi: b.wilson_high * 100,
        lower: b.lower * 100, upper: b.upper * 100, count: b.count,
      };
    });
    new Chart(canvas, {
      data: {
        datasets: [
          {
            type: "scatter",
            label: canvas.dataset.label || "Forecasts",
            data: points,
            clip: false,
            bins: true,
            borderColor: PALETTE[0],
            backgroundColor: PALETTE[0],
            pointRadius: points.map(function (p) { return Math.min(9, 3 + Math.sqrt(p.count)); }),
            pointHoverRadius: 8,
          },
          {
            type: "line",
            label: "Perfect calibration",
            data: [{ x: 0, y: 0 }, { x: 100, y: 100 }],
            borderColor: MUTED,
            borderDash: [5, 5],
            borderWidth: 1,
            pointRadius: 0,
            pointHitRadius: 0,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        layout: { padding: { top: 10, right: 10 } },
        scales: {
          x: {
            type: "linear", min: 0, max: 100, grid: { color: GRID },
            title: { display: true, text: "Forecast probability", color: INK },
            ticks: { stepSize: 20, callback: function (v) { return v + "%"; } },
          },
          y: {
            type: "linear", min: 0, max: 100, grid: { color: GRID },
            title: { display: true, text: "How often it happened", color: INK },
            ticks: { stepSize: 20, callback: function (v) { return v + "%"; } },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { color: INK, boxWidth: 14 } },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 0; },
            callbacks: {
              title: function (items) {
                var p = items[0].raw;
                return "Bin " + pct(p.lower) + "–" + pct(p.upper) + " (" + p.count + " event" + (p.count === 1 ? "" : "s") + ")";
              },
              label: function (item) {
                var p = item.raw;
                return [" Mean forecast " + pct(p.x), " Happened " + pct(p.y) + " (95%: " + pct(p.lo) + "–" + pct(p.hi) + ")"];
              },
            },
          },
        },
      },
      plugins: [binsPlugin],
    });
  }

  // Ticks for histories that run for years: the first of January (or of January and July when
  // under two and a half years) in UTC; shorter spans fall back to day ticks.
  var monthYear = new Intl.DateTimeFormat("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
  function calendarTicks(min, max) {
    var span = (max - min) / DAY;
    if (span < 540) return { ticks: dayTicks(min, max), format: day.format };
    var months = span > 365 * 2.5 ? [0] : [0, 6];
    var ticks = [];
    for (var y = new Date(min).getUTCFullYear(); y <= new Date(max).getUTCFullYear(); y++) {
      months.forEach(function (m) {
        var t = Date.UTC(y, m, 1);
        if (t >= min && t <= max) ticks.push({ value: t });
      });
    }
    var format = months.length === 1
      ? function (d) { return String(d.getUTCFullYear()); }
      : function (d) { return monthYear.format(d); };
    return { ticks: ticks, format: format };
  }

  // A strategic question's composite in [-1, 1] over time, as steps (a null while no indicator
  // has a value leaves a gap), filled blue above 0 and orange below, with a dashed line at the
  // start of "what moved it".
  function strategicChart() {
    var data = readJSON("strategic-data");
    var canvas = document.getElementById("strategic-chart");
    if (!data || !canvas || !data.points.length) return;
    var MORE = "#1a5fb4";
    var LESS = "#b54708";
    var line = [];
    data.points.forEach(function (p, i) {
      var until = i + 1 < data.points.length ? data.points[i + 1].t : data.end;
      line.push({ x: p.t, y: p.c });
      if (p.c !== null && until > p.t) line.push({ x: until, y: p.c });
    });
    var xmin = data.points[0].t;
    var xmax = Math.max(data.end, xmin + DAY);
    xmax += (xmax - xmin) * 0.02;
    var datasets = [{
      label: "Composite",
      data: line,
      borderColor: INK,
      borderWidth: 2,
      pointRadius: 0,
      pointHoverRadius: 4,
      pointHitRadius: 8,
      spanGaps: false,
      pointStyle: "line",
      fill: { target: { value: 0 }, above: "rgba(26, 95, 180, 0.16)", below: "rgba(181, 71, 8, 0.16)" },
    }];
    if (data.since !== null && data.since >= xmin) {
      datasets.push({
        label: "Since " + day.format(new Date(data.since)),
        data: [{ x: data.since, y: -1 }, { x: data.since, y: 1 }],
        borderColor: MUTED,
        borderDash: [5, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        pointHitRadius: 0,
        pointStyle: "line",
        fill: false,
      });
    }
    var signed = function (v) { return (v > 0 ? "+" : v < 0 ? "\u2212" : "") + Math.abs(v).toFixed(2); };
    timeChart(canvas, datasets, {
      type: "linear",
      min: xmin,
      max: xmax,
      grid: { color: GRID },
      afterBuildTicks: function (axis) { axis.ticks = calendarTicks(axis.min, Math.min(axis.max, data.end)).ticks; },
      ticks: {
        autoSkip: false,
        maxRotation: 0,
        callback: function (v) { return calendarTicks(this.min, this.max).format(new Date(v)); },
      },
    }, {
      min: -1,
      max: 1,
      grid: {
        color: function (ctx) { return ctx.tick && ctx.tick.value === 0 ? MUTED : GRID; },
      },
      ticks: {
        stepSize: 0.5,
        color: function (ctx) { return ctx.tick.value > 0 ? MORE : ctx.tick.value < 0 ? LESS : MUTED; },
        callback: function (v) { return signed(v); },
      },
    }, {
      legend: { display: datasets.length > 1, position: "bottom", labels: { color: INK, usePointStyle: true, boxWidth: 16 } },
      tooltip: {
        filter: function (item) { return item.datasetIndex === 0 && item.parsed.y !== null; },
        callbacks: {
          label: function (item) {
            var v = item.parsed.y;
            var pole = v > 0 ? data.pole_more : v < 0 ? data.pole_less : "halfway";
            return " Composite: " + signed(v) + " (" + pole + ")";
          },
        },
      },
    });
  }

  crowdChart();
  calibrationChart();
  strategicChart();
})();

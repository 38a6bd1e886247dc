/* Numeric and date questions: the distribution editor of the forecast form, and the read-only
   distribution charts of the question page (the crowd's and your own).

   No build step, no library: SVG drawn from the page's JSON (json_script "distribution-meta").
   Without this script the form still works: its inputs (centre, spread, weight) are the form's
   fields, and the server converts them and says what is wrong next to each one. The script
   draws the density the inputs describe, adds handles to drag (mouse, touch, and the keyboard:
   each handle is a slider), and shows the 25/50/75 quantiles as the inputs change.

   The maths mirrors forecast_math/continuous.py (cdf_from_mixture, quantile), so the quartiles
   shown while editing are those of the CDF the server will store. */
(function () {
  "use strict";

  var GRID = 201;
  var N = GRID - 1;
  var MIN_OUTSIDE = 0.001;
  var MAX_OUTSIDE = 0.2;
  var UNIFORM_MIX = 0.01;
  var LN3 = Math.log(3);  // a logistic's quartiles lie at centre -/+ ln(3) * scale
  var DAY_S = 86400;
  var SVGNS = "http://www.w3.org/2000/svg";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var COMPONENT_COLOURS = ["#1a5fb4", "#b54708"];  // site.css: .dist-component and .is-second
  var GRIDX = [];
  for (var gi = 0; gi < GRID; gi++) GRIDX.push(gi / N);

  // --- The maths (forecast_math/continuous.py) -----------------------------------------------

  function logistic(z) { return 0.5 * (1 + Math.tanh(0.5 * z)); }

  function tail(mass, isOpen) {
    return isOpen ? Math.min(Math.max(mass, MIN_OUTSIDE), MAX_OUTSIDE / 2) : 0;
  }

  // The grid CDF of a mixture of logistics given in range units ({centre, scale, weight}): a
  // closed bound cuts its tail off, an open one keeps it (within [MIN_OUTSIDE, MAX_OUTSIDE/2]),
  // and the inside is mixed with the uniform so that no bucket is empty.
  function mixtureCdf(components, openLower, openUpper) {
    var f = new Array(GRID);
    for (var i = 0; i < GRID; i++) {
      var v = 0;
      components.forEach(function (c) { v += c.weight * logistic((GRIDX[i] - c.centre) / c.scale); });
      f[i] = v;
    }
    var below = tail(f[0], openLower);
    var above = tail(1 - f[N], openUpper);
    var span = f[N] - f[0];
    if (!(span > 0)) return null;
    var inside = 1 - below - above;
    var u = UNIFORM_MIX / inside;
    var out = new Array(GRID);
    var run = 0;
    for (var k = 0; k < GRID; k++) {
      var h = Math.min(1, Math.max(0, (f[k] - f[0]) / span));
      run = Math.max(run, h);
      out[k] = below + inside * ((1 - u) * run + u * GRIDX[k]);
    }
    out[0] = below;
    out[N] = 1 - above;
    return out;
  }

  // The value (range units, within [0, 1]) where the linearly interpolated CDF reaches q.
  function quantile(cdf, q) {
    if (q <= cdf[0]) return 0;
    if (q >= cdf[N]) return 1;
    var lo = 0, hi = N;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (cdf[mid] <= q) lo = mid; else hi = mid;
    }
    var step = cdf[hi] - cdf[lo];
    return (lo + (step > 0 ? (q - cdf[lo]) / step : 0)) / N;
  }

  // The density (per range unit) of each of the 200 buckets.
  function densities(cdf) {
    var d = new Array(N);
    for (var i = 0; i < N; i++) d[i] = (cdf[i + 1] - cdf[i]) * N;
    return d;
  }

  // --- Values: numbers with their unit, instants as dates -------------------------------------

  function Units(meta) {
    this.meta = meta;
    this.span = meta.upper - meta.lower;
    this.isDate = meta.type === "date";
  }
  Units.prototype.toX = function (v) { return (v - this.meta.lower) / this.span; };
  Units.prototype.fromX = function (x) { return x >= 1 ? this.meta.upper : this.meta.lower + x * this.span; };
  // A spread (days for a date question) in range units, and back.
  Units.prototype.scaleToX = function (s) { return (this.isDate ? s * DAY_S : s) / this.span; };
  Units.prototype.scaleFromX = function (sx) { var v = sx * this.span; return this.isDate ? v / DAY_S : v; };

  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  function number(v, decimals) {
    var text = v.toLocaleString("en-GB", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    return text.replace(/^-/, "\u2212");
  }
  // The same text as web/distributions.py format_value.
  Units.prototype.format = function (v) {
    if (this.isDate) {
      var d = new Date(Math.round(v) * 1000);
      var text = d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
      return this.meta.with_time ? text + ", " + pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + " UTC" : text;
    }
    var t = number(v, this.meta.decimals);
    return this.meta.unit ? t + "\u00a0" + this.meta.unit : t;
  };
  Units.prototype.formatX = function (x) { return this.format(this.fromX(x)); };
  Units.prototype.formatScale = function (s) {
    var t = number(s, this.meta.scale_decimals);
    if (this.isDate) return t + (s === 1 ? " day" : " days");
    return this.meta.unit ? t + "\u00a0" + this.meta.unit : t;
  };
  Units.prototype.pct = function (p) {
    var v = Math.round(p * 1000) / 10;
    return (v < 0.1 && p > 0 ? "<0.1" : String(v)) + "%";
  };

  // Axis ticks: round numbers, or calendar days, months and years for dates (UTC).
  Units.prototype.ticks = function (maxTicks) {
    var lo = this.meta.lower, hi = this.meta.upper, out = [], t;
    if (this.isDate) {
      var days = (hi - lo) / DAY_S;
      var d0 = new Date(lo * 1000);
      var monthSteps = [1, 2, 3, 6, 12, 24, 60, 120];
      if (days / 30.4 >= 2) {
        var step = monthSteps.filter(function (m) { return days / 30.44 / m <= maxTicks + 0.25; })[0] || 120;
        var y = d0.getUTCFullYear(), m = d0.getUTCMonth();
        m = Math.ceil(m / step) * step;
        if (step >= 12) { m = 0; y = Math.ceil(y / (step / 12)) * (step / 12); }
        for (;;) {
          t = Date.UTC(y + Math.floor(m / 12), m % 12, 1) / 1000;
          if (t > hi) break;
          if (t >= lo) out.push({ v: t, label: step >= 12 ? String(new Date(t * 1000).getUTCFullYear()) : MONTHS[(m % 12)] + (m % 12 === 0 || out.length === 0 ? " " + (y + Math.floor(m / 12)) : "") });
          m += step;
        }
        return out;
      }
      var dayStep = [1, 2, 7, 14].filter(function (s) { return days / s <= maxTicks + 0.25; })[0] || 14;
      if (days < 2) {
        var hourStep = [1, 3, 6, 12].filter(function (s) { return days * 24 / s <= maxTicks; })[0] || 12;
        for (t = Math.ceil(lo / (hourStep * 3600)) * hourStep * 3600; t <= hi; t += hourStep * 3600) {
          out.push({ v: t, label: pad2(new Date(t * 1000).getUTCHours()) + ":00" });
        }
        return out;
      }
      for (t = Math.ceil(lo / DAY_S) * DAY_S; t <= hi; t += dayStep * DAY_S) {
        var dd = new Date(t * 1000);
        out.push({ v: t, label: dd.getUTCDate() + " " + MONTHS[dd.getUTCMonth()] });
      }
      return out;
    }
    var raw = (hi - lo) / maxTicks;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var nice = [1, 2, 2.5, 5, 10].map(function (k) { return k * mag; }).filter(function (s) { return s >= raw; })[0];
    var decimals = Math.max(0, -Math.floor(Math.log10(nice) + 1e-9) + (nice / mag === 2.5 ? 1 : 0));
    for (t = Math.ceil(lo / nice - 1e-9) * nice; t <= hi + nice * 1e-9; t += nice) {
      out.push({ v: t, label: number(Math.abs(t) < nice * 1e-9 ? 0 : t, decimals) });
    }
    return out;
  };

  // --- SVG ---------------------------------------------------------------------------------------

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // One chart of densities over the range. Layers are kept between renders, so that a focused
  // handle stays focused while it moves.
  function Plot(box, units, options) {
    this.box = box;
    this.units = units;
    this.options = options;
    this.svg = el("svg", { class: "dist-svg", focusable: "false" }, box);
    if (options.label) {
      this.svg.setAttribute("role", options.handles ? "group" : "img");
      this.svg.setAttribute("aria-label", options.label);
    }
    this.back = el("g", { "aria-hidden": "true" }, this.svg);
    this.curves = el("g", { "aria-hidden": "true" }, this.svg);
    this.marks = el("g", { "aria-hidden": "true" }, this.svg);
    this.handles = el("g", {}, this.svg);
    this.layout();
  }

  Plot.prototype.layout = function () {
    var meta = this.units.meta;
    var width = Math.max(240, Math.round(this.box.clientWidth || 320));
    var narrow = width < 360;
    var g = {
      width: width,
      left: meta.open_lower ? 38 : 14,
      right: width - (meta.open_upper ? 38 : 14),
      top: 18,
      plotH: this.options.handles ? (narrow ? 128 : 150) : (narrow ? 110 : 130),
    };
    g.base = g.top + g.plotH;
    g.track = g.base + 46;
    g.height = this.options.handles ? g.track + 18 : g.base + 34;
    this.g = g;
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", g.height);
    this.svg.setAttribute("viewBox", "0 0 " + width + " " + g.height);
  };

  Plot.prototype.px = function (x) { return this.g.left + x * (this.g.right - this.g.left); };
  Plot.prototype.xOf = function (clientX) {
    var r = this.svg.getBoundingClientRect();
    return (clientX - r.left - this.g.left) / (this.g.right - this.g.left);
  };

  // scene: {curves: [{cdf, kind}], main: the curve whose quartiles and outside mass are marked,
  // outcome: {x} or {side}}
  Plot.prototype.render = function (scene) {
    var g = this.g, self = this, units = this.units, meta = units.meta;
    clear(this.back); clear(this.curves); clear(this.marks);
    var curves = scene.curves.filter(function (c) { return c && c.cdf; });
    var top = 0;
    curves.forEach(function (c) {
      c.d = densities(c.cdf);
      c.d.forEach(function (v) { if (v > top) top = v; });
    });
    top = top > 0 ? top * 1.08 : 1;
    var y = function (d) { return g.base - (d / top) * g.plotH; };

    // Axis and ticks.
    el("line", { x1: g.left, x2: g.right, y1: g.base, y2: g.base, class: "dist-axis" }, this.back);
    var ticks = units.ticks(Math.max(3, Math.min(6, Math.floor((g.right - g.left) / 60))));
    ticks.forEach(function (t) {
      var x = self.px(units.toX(t.v));
      el("line", { x1: x, x2: x, y1: g.base, y2: g.base + 5, class: "dist-axis" }, self.back);
      var label = el("text", { x: x, y: g.base + 19, class: "dist-tick", "text-anchor": "middle" }, self.back);
      label.textContent = t.label;
    });
    if (meta.unit && !units.isDate) {
      var unitLabel = el("text", { x: g.right, y: g.top - 6, class: "dist-tick", "text-anchor": "end" }, this.back);
      unitLabel.textContent = meta.unit;
    }
    [["open_lower", g.left], ["open_upper", g.right]].forEach(function (pair) {
      if (!meta[pair[0]]) {
        el("line", { x1: pair[1], x2: pair[1], y1: g.top, y2: g.base, class: "dist-bound" }, self.back);
      } else {
        el("line", { x1: pair[1], x2: pair[1], y1: g.top, y2: g.base, class: "dist-bound is-open" }, self.back);
      }
    });

    // The densities, back to front.
    curves.forEach(function (c) {
      var path = "M" + self.px(0) + "," + g.base + " L" + self.px(0) + "," + y(c.d[0]);
      for (var i = 0; i < N; i++) path += " L" + self.px((i + 0.5) / N).toFixed(1) + "," + y(c.d[i]).toFixed(1);
      path += " L" + self.px(1) + "," + y(c.d[N - 1]) + " L" + self.px(1) + "," + g.base + " Z";
      el("path", { d: path, class: "dist-curve is-" + c.kind }, self.curves);
    });

    // The main curve's quartiles and the mass beyond its open bounds.
    var main = scene.main && scene.main.cdf ? scene.main : null;
    if (main) {
      var d = densities(main.cdf);
      [0.25, 0.5, 0.75].forEach(function (q) {
        var x = quantile(main.cdf, q);
        var i = Math.min(N - 1, Math.max(0, Math.floor(x * N)));
        el("line", {
          x1: self.px(x), x2: self.px(x), y1: g.base, y2: y(d[i]),
          class: "dist-quartile" + (q === 0.5 ? " is-median" : ""),
        }, self.marks);
      });
      var outside = [
        [meta.open_lower, main.cdf[0], 4, g.left - 8],
        [meta.open_upper, 1 - main.cdf[N], g.right + 8, g.width - 4],
      ];
      outside.forEach(function (o) {
        if (!o[0]) return;
        var h = Math.max(2, Math.min(1, o[1] / (MAX_OUTSIDE / 2)) * g.plotH * 0.5);
        el("rect", { x: o[2], y: g.base - h, width: o[3] - o[2], height: h, rx: 2, class: "dist-tail is-" + main.kind }, self.marks);
        var t = el("text", { x: (o[2] + o[3]) / 2, y: g.base - h - 4, "text-anchor": "middle", class: "dist-tick" }, self.marks);
        t.textContent = units.pct(o[1]);
      });
    }

    // The outcome, once resolved.
    if (scene.outcome) {
      var ox = scene.outcome.side === "below" ? (4 + g.left - 8) / 2
        : scene.outcome.side === "above" ? (g.right + 8 + g.width - 4) / 2
        : this.px(scene.outcome.x);
      el("line", { x1: ox, x2: ox, y1: g.top - 4, y2: g.base, class: "dist-outcome" }, this.marks);
      var label = el("text", {
        x: ox + (ox > g.width / 2 ? -5 : 5), y: g.top + 8, class: "dist-outcome-label",
        "text-anchor": ox > g.width / 2 ? "end" : "start",
      }, this.marks);
      label.textContent = "Outcome";
    }
  };

  function legend(box, items) {
    var list = document.createElement("ul");
    list.className = "dist-legend";
    list.setAttribute("aria-hidden", "true");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "dist-swatch is-" + item.kind;
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(item.label));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function readMeta() {
    var node = document.getElementById("distribution-meta");
    return node ? JSON.parse(node.textContent) : null;
  }

  // --- The read-only charts ------------------------------------------------------------------

  function initStatic(box, meta) {
    var units = new Units(meta);
    var kinds = (box.dataset.curves || "").split(/\s+/).filter(function (k) { return meta[k]; });
    if (!kinds.length) return;
    var labels = { crowd: "Crowd", standing: "Your forecast" };
    var plot = new Plot(box, units, { handles: false, label: box.dataset.label || "" });
    var scene = function () {
      return {
        curves: kinds.map(function (k) { return { cdf: meta[k], kind: k }; }),
        main: { cdf: meta[kinds[0]], kind: kinds[0] },
        outcome: meta.outcome || null,
      };
    };
    plot.render(scene());
    legend(box, kinds.map(function (k) { return { kind: k, label: labels[k] }; })
      .concat(meta.outcome ? [{ kind: "outcome", label: "Outcome" }] : []));
    watchWidth(box, function () { plot.layout(); plot.render(scene()); });
  }

  function watchWidth(box, redraw) {
    if (!window.ResizeObserver) return;
    var last = box.clientWidth;
    new ResizeObserver(function () {
      if (Math.abs(box.clientWidth - last) < 2) return;
      last = box.clientWidth;
      redraw();
    }).observe(box);
  }

  // --- The editor ------------------------------------------------------------------------------

  function Editor(form, meta) {
    this.form = form;
    this.meta = meta;
    this.units = new Units(meta);
    this.root = form.querySelector("#dist-editor");
    this.second = form.querySelector("#second");
    this.secondSet = form.querySelector("#component-2");
    this.inputs = [1, 2].map(function (k) {
      return {
        centre: form.querySelector("#centre_" + k),
        scale: form.querySelector("#scale_" + k),
        weight: form.querySelector("#weight_" + k),
      };
    });
    this.out = {
      q25: form.querySelector("#dist-q25"),
      q50: form.querySelector("#dist-q50"),
      q75: form.querySelector("#dist-q75"),
      outside: form.querySelector("#dist-outside"),
      status: form.querySelector("#dist-status"),
    };
  }

  // The inputs' values as the editor uses them: centre in question units (POSIX seconds for a
  // date), scale in question units (days for a date), weight a fraction. null when unreadable.
  Editor.prototype.readCentre = function (input) {
    var v = input.value.trim();
    if (this.units.isDate) {
      var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(v);
      if (!m) return null;
      return Date.UTC(+m[1], +m[2] - 1, +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0) / 1000;
    }
    var n = parseFloat(v);
    return v !== "" && isFinite(n) ? n : null;
  };
  Editor.prototype.writeCentre = function (input, v) {
    if (this.units.isDate) {
      var d = new Date(v * 1000);
      var day = d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate());
      input.value = this.meta.with_time ? day + "T" + pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) : day;
    } else {
      input.value = String(Number(v.toFixed(this.meta.input_decimals)));
    }
  };
  // A centre as the input holds it (a whole day, or the input's decimals).
  Editor.prototype.roundCentre = function (v) {
    if (this.units.isDate) {
      var unit = this.meta.with_time ? 60 : DAY_S;
      return Math.round(v / unit) * unit;
    }
    return Number(v.toFixed(this.meta.input_decimals));
  };
  Editor.prototype.roundScale = function (s) { return Number(s.toFixed(this.meta.scale_decimals)); };

  // Component k's centre and spread (also in range units, x and sx), or null while unreadable.
  Editor.prototype.readComponent = function (k) {
    var c = this.readCentre(this.inputs[k].centre);
    var s = parseFloat(this.inputs[k].scale.value);
    if (c === null || !(s > 0)) return null;
    return { centre: c, scale: s, x: this.units.toX(c), sx: this.units.scaleToX(s) };
  };

  // The mixture the inputs describe (the second component only when ticked), or null.
  Editor.prototype.readState = function () {
    var first = this.readComponent(0);
    if (!first) return null;
    if (!(this.second && this.second.checked)) return [Object.assign(first, { weight: 1 })];
    var second = this.readComponent(1);
    var w = parseFloat(this.inputs[1].weight.value);
    if (!second || !(w > 0 && w < 100)) return null;
    return [Object.assign(first, { weight: 1 - w / 100 }), Object.assign(second, { weight: w / 100 })];
  };

  Editor.prototype.init = function () {
    var self = this, meta = this.meta;
    this.root.hidden = false;
    var box = this.root.querySelector(".dist-chart-box");
    this.plot = new Plot(box, this.units, { handles: true, label: "Your distribution: drag the handles, or focus one and use the arrow keys" });
    var items = [{ kind: "edit", label: "Your new forecast" }];
    if (meta.standing) items.push({ kind: "standing", label: "Your standing forecast" });
    if (meta.crowd) items.push({ kind: "crowd", label: "Crowd" });
    legend(this.root.querySelector(".dist-legend-box"), items);
    this.handles = [];
    [0, 1].forEach(function (k) { self.handles.push(self.makeHandles(k)); });

    this.inputs.forEach(function (set) {
      [set.centre, set.scale, set.weight].forEach(function (input) {
        if (input) input.addEventListener("input", function () { self.update(false); });
      });
    });
    if (this.second) {
      this.second.addEventListener("change", function () {
        if (self.second.checked) self.seedSecond();
        self.secondSet.hidden = !self.second.checked;
        self.update(true);
      });
      this.secondSet.hidden = !this.second.checked;
    }
    watchWidth(box, function () { self.plot.layout(); self.update(false); });
    this.last = null;
    this.update(false);
  };

  // A second component beside the first (on its right if there is room), with 30% of the weight.
  Editor.prototype.seedSecond = function () {
    var set = this.inputs[1];
    var c = this.readComponent(0);
    if (!c) return;
    if (this.readCentre(set.centre) === null) {
      var x = c.x + 3 * c.sx <= 0.95 ? c.x + 3 * c.sx : Math.max(0.05, c.x - 3 * c.sx);
      this.writeCentre(set.centre, this.roundCentre(this.units.fromX(x)));
    }
    if (!(parseFloat(set.scale.value) > 0)) set.scale.value = String(this.roundScale(c.scale));
    var w = parseFloat(set.weight.value);
    if (!(w > 0 && w < 100)) set.weight.value = "30";
  };

  Editor.prototype.makeHandles = function (k) {
    var self = this, units = this.units;
    var layer = el("g", { class: "dist-component", "data-component": k + 1 }, this.plot.handles);
    var colour = COMPONENT_COLOURS[k];
    var span = el("line", { class: "dist-span", stroke: colour, "aria-hidden": "true" }, layer);
    var leftEnd = el("g", { class: "dist-handle is-spread", "aria-hidden": "true" }, layer);
    el("circle", { r: 12, class: "dist-ring" }, leftEnd);
    el("rect", { x: -5, y: -5, width: 10, height: 10, rx: 2, fill: "#fff", stroke: colour, "stroke-width": 2.5 }, leftEnd);
    // The centre, then the spread: their order in the keyboard's tab sequence.
    var centre = el("g", { class: "dist-handle is-centre", role: "slider", tabindex: "0" }, layer);
    el("circle", { r: 13, class: "dist-ring" }, centre);  // also the target a pointer grabs (26 px)
    el("circle", { r: 8, fill: colour, stroke: "#fff", "stroke-width": 2 }, centre);
    var spread = el("g", { class: "dist-handle is-spread", role: "slider", tabindex: "0" }, layer);
    el("circle", { r: 12, class: "dist-ring" }, spread);
    el("rect", { x: -5, y: -5, width: 10, height: 10, rx: 2, fill: "#fff", stroke: colour, "stroke-width": 2.5 }, spread);
    var name = k === 0 ? (this.second ? "component 1" : "your distribution") : "component 2";
    centre.setAttribute("aria-label", "Centre of " + name);
    spread.setAttribute("aria-label", "Spread of " + name);
    centre.id = "handle-centre-" + (k + 1);
    spread.id = "handle-spread-" + (k + 1);

    var set = this.inputs[k];
    var stepC = this.meta.centre_step * (units.isDate ? DAY_S : 1);
    var stepS = this.meta.scale_step;
    var moveCentre = function (v) {
      v = Math.min(self.meta.upper, Math.max(self.meta.lower, v));
      self.writeCentre(set.centre, self.roundCentre(v));
      self.update(true);
    };
    var setScale = function (s) {
      s = Math.min(self.meta.scale_max, Math.max(self.meta.scale_min, s));
      set.scale.value = String(self.roundScale(s));
      self.update(true);
    };
    var keys = function (event, onStep, onEnd) {
      var steps = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[event.key];
      if (steps) onStep(steps);
      else if (event.key === "Home" || event.key === "End") onEnd(event.key === "End");
      else return;
      event.preventDefault();
    };
    centre.addEventListener("keydown", function (e) {
      var now = self.readCentre(set.centre);
      if (now === null) return;
      keys(e, function (n) { moveCentre(now + n * stepC); }, function (end) { moveCentre(end ? self.meta.upper : self.meta.lower); });
    });
    spread.addEventListener("keydown", function (e) {
      var now = parseFloat(set.scale.value);
      if (!(now > 0)) return;
      keys(e, function (n) { setScale(now + n * stepS); }, function (end) { setScale(end ? self.meta.scale_max : self.meta.scale_min); });
    });
    var drag = function (handle, onMove) {
      handle.addEventListener("pointerdown", function (e) {
        if (e.button !== 0) return;
        e.preventDefault();
        handle.focus();
        handle.setPointerCapture(e.pointerId);
        handle.classList.add("is-dragging");
        var move = function (ev) { onMove(self.plot.xOf(ev.clientX)); };
        var stop = function () {
          handle.classList.remove("is-dragging");
          handle.removeEventListener("pointermove", move);
          handle.removeEventListener("pointerup", stop);
          handle.removeEventListener("pointercancel", stop);
        };
        handle.addEventListener("pointermove", move);
        handle.addEventListener("pointerup", stop);
        handle.addEventListener("pointercancel", stop);
      });
    };
    drag(centre, function (x) { moveCentre(units.fromX(x)); });
    var spreadDrag = function (x) {
      var c = self.readCentre(set.centre);
      if (c === null) return;
      setScale(units.scaleFromX(Math.abs(x - units.toX(c)) / LN3));
    };
    drag(spread, spreadDrag);
    drag(leftEnd, spreadDrag);
    return { layer: layer, span: span, left: leftEnd, spread: spread, centre: centre };
  };

  Editor.prototype.placeHandles = function (state) {
    var self = this, g = this.plot.g, units = this.units;
    this.handles.forEach(function (h, k) {
      var comp = state && state[k];
      h.layer.style.display = comp ? "" : "none";
      if (!comp) return;
      var y = g.track;
      var clampPx = function (x) { return Math.min(g.width - 6, Math.max(6, self.plot.px(x))); };
      var lo = clampPx(comp.x - LN3 * comp.sx), hi = clampPx(comp.x + LN3 * comp.sx), mid = clampPx(comp.x);
      h.span.setAttribute("x1", lo); h.span.setAttribute("x2", hi);
      h.span.setAttribute("y1", y); h.span.setAttribute("y2", y);
      // The squares stay clear of the round handle, so that a narrow component's can be grabbed.
      var gap = 26;
      h.left.setAttribute("transform", "translate(" + Math.min(lo, mid - gap) + "," + y + ")");
      h.spread.setAttribute("transform", "translate(" + Math.max(hi, mid + gap) + "," + y + ")");
      h.centre.setAttribute("transform", "translate(" + mid + "," + y + ")");
      var c = h.centre, s = h.spread;
      c.setAttribute("aria-valuemin", self.meta.lower);
      c.setAttribute("aria-valuemax", self.meta.upper);
      c.setAttribute("aria-valuenow", comp.centre);
      c.setAttribute("aria-valuetext", units.format(comp.centre));
      s.setAttribute("aria-valuemin", self.meta.scale_min);
      s.setAttribute("aria-valuemax", self.meta.scale_max);
      s.setAttribute("aria-valuenow", comp.scale);
      s.setAttribute("aria-valuetext", units.formatScale(comp.scale) + ": half of it between " +
        units.formatX(Math.max(0, comp.x - LN3 * comp.sx)) + " and " + units.formatX(Math.min(1, comp.x + LN3 * comp.sx)));
    });
    var track = this.trackLine;
    if (!track) {
      track = this.trackLine = el("line", { class: "dist-track", "aria-hidden": "true" }, this.plot.handles);
      this.plot.handles.insertBefore(track, this.plot.handles.firstChild);
    }
    track.setAttribute("x1", g.left); track.setAttribute("x2", g.right);
    track.setAttribute("y1", g.track); track.setAttribute("y2", g.track);
  };

  Editor.prototype.update = function (announce) {
    var self = this, meta = this.meta, units = this.units;
    var state = this.readState();
    if (state) {
      var cdf = mixtureCdf(state.map(function (c) { return { centre: c.x, scale: c.sx, weight: c.weight }; }), meta.open_lower, meta.open_upper);
      if (cdf) this.last = { state: state, cdf: cdf };
    }
    this.root.classList.toggle("is-stale", !state);
    if (!this.last) return;
    var shown = this.last;
    this.plot.render({
      curves: [{ cdf: meta.crowd, kind: "crowd" }, { cdf: shown.cdf, kind: "edit" }, { cdf: meta.standing, kind: "standing" }],
      main: { cdf: shown.cdf, kind: "edit" },
      outcome: null,
    });
    this.placeHandles(shown.state);
    var qs = [0.25, 0.5, 0.75].map(function (q) { return units.formatX(quantile(shown.cdf, q)); });
    this.out.q25.textContent = qs[0];
    this.out.q50.textContent = qs[1];
    this.out.q75.textContent = qs[2];
    var outside = [];
    if (meta.open_lower) outside.push(units.pct(shown.cdf[0]) + " below " + units.format(meta.lower));
    if (meta.open_upper) outside.push(units.pct(1 - shown.cdf[N]) + " above " + units.format(meta.upper));
    this.out.outside.textContent = outside.join(" · ");
    this.out.outside.hidden = !outside.length;
    if (announce) {
      clearTimeout(this.timer);
      this.timer = setTimeout(function () {
        self.out.status.textContent = "Quartiles: 25% " + qs[0] + ", median " + qs[1] + ", 75% " + qs[2] + ".";
      }, 500);
    }
  };

  // For charts.js (the crowd's median over time formats its values the same way), and the maths
  // for the browser test that pins it to forecast_math.continuous.
  window.SignpostDistribution = { Units: Units, mixtureCdf: mixtureCdf, quantile: quantile };

  document.addEventListener("DOMContentLoaded", function () {
    var meta = readMeta();
    if (!meta) return;
    var form = document.getElementById("forecast-form");
    if (form && form.querySelector("#dist-editor")) new Editor(form, meta).init();
    Array.prototype.forEach.call(document.querySelectorAll(".dist-chart[data-curves]"), function (box) {
      initStatic(box, meta);
    });
  });
})();

/* lpose report page: draws the JSON in #report-data (written by
 * lua/lpose/diagnostics) with uPlot, plus tables and SVG. When done it sets
 * <html data-rendered="ok" data-charts=N data-charts-drawn=N data-render-ms=T>
 * for tests/lua/report_html_spec.lua and bench/report_page.lua. */
(function () {
  'use strict';
  var R = JSON.parse(document.getElementById('report-data').textContent);
  var MODEL_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
  var KP_COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45',
                   '#469990', '#9a6324', '#800000', '#808000', '#000075', '#a9a9a9', '#fabed4', '#ffd8b1'];
  var charts = [];
  var root = document.getElementById('report');

  function arr(x) { return Array.isArray(x) ? x : []; }
  function num(v) { return typeof v === 'number' && isFinite(v); }
  function fmt(v, digits) { return num(v) ? v.toFixed(digits === undefined ? 2 : digits) : '–'; }
  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) e.appendChild(arguments[i]);
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function table(head, rows) {
    var t = el('table'), tr = el('tr');
    head.forEach(function (h, i) { tr.appendChild(el('th', { text: h, cls: i === 0 ? 'l' : '' })); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c, i) { row.appendChild(el('td', { text: c, cls: i === 0 ? 'l' : '' })); });
      t.appendChild(row);
    });
    return t;
  }
  function chartWidth(perRow) {
    var w = Math.max(480, Math.min(1200, root.clientWidth - 10));
    return perRow > 1 ? Math.floor((w - 24 * (perRow - 1)) / perRow) : w;
  }
  function modelColor(i) { return MODEL_COLORS[i % MODEL_COLORS.length]; }

  // Tick labels with 3 significant digits: uPlot's default rounds 0.0005 to 0.001.
  function tickValues(u, splits) {
    return splits.map(function (v) {
      if (v === null || v === undefined) return '';
      if (v === 0) return '0';
      var a = Math.abs(v);
      return a < 1e-3 || a >= 1e6 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
    });
  }

  // One uPlot chart with a title line above it; returns the uPlot instance.
  function lineChart(parent, spec) {
    var box = el('div', { cls: 'chart' }, el('div', { cls: 'title', text: spec.title }));
    parent.appendChild(box);
    var opts = {
      width: spec.width, height: spec.height || 220,
      scales: { x: { time: false }, y: spec.log ? { distr: 3 } : (spec.yRange ? { range: spec.yRange } : {}) },
      axes: [{ label: spec.xLabel, size: 40 }, { label: spec.yLabel, size: 60, values: tickValues }],
      series: [{ label: spec.xLabel }].concat(spec.series),
      legend: { live: true },
      hooks: spec.hooks || {},
    };
    if (spec.sync) opts.cursor = { sync: { key: spec.sync } };
    var u = new uPlot(opts, spec.data, box);
    charts.push(u);
    return u;
  }

  // ------------------------------------------------------------ models
  function modelsSection() {
    root.appendChild(el('h2', { text: 'Models' }));
    var rows = R.models.map(function (m) {
      return [m.name, m.model_type || '–', m.backbone || '–', m.losses || '–', m.dir];
    });
    var t = table(['model', 'model_type', 'backbone', 'losses_to_use', 'directory'], rows);
    Array.prototype.forEach.call(t.querySelectorAll('tr'), function (tr, i) {
      if (i > 0) tr.firstChild.insertBefore(el('span', { cls: 'swatch', style: 'background:' + modelColor(i - 1) }),
                                            tr.firstChild.firstChild);
    });
    root.appendChild(t);
    arr(R.warnings).forEach(function (w) { root.appendChild(el('div', { cls: 'warn', text: w })); });
  }

  // ------------------------------------------------------------ training curves
  function lossSection() {
    root.appendChild(el('h2', { text: 'Training curves (metrics.csv)' }));
    root.appendChild(el('p', { cls: 'note', text: 'Every quantity each model logged, against the training step. ' +
      'Solid: train, dashed with points: validation. A title says when the y axis is logarithmic.' }));
    ['loss', 'schedule'].forEach(function (kind) {
      var list = arr(R.losses).filter(function (c) { return c.kind === kind; });
      if (!list.length) return;
      root.appendChild(el('h3', { text: kind === 'loss' ? 'Losses' : 'Learning rates and loss weights' }));
      var grid = el('div', { cls: 'grid' });
      root.appendChild(grid);
      list.forEach(function (c) {
        var series = c.series.map(function (s) {
          var val = s.stage !== 'train';
          return { label: s.label, stroke: modelColor(s.model - 1), width: 1.5, spanGaps: true,
                   dash: val ? [6, 4] : undefined, points: { show: val, size: 5 } };
        });
        var title = c.title + (c.log ? ' (log scale)' : '') +
          (c.steps.length < c.n_steps ? ' · drawn ' + c.steps.length + ' of ' + c.n_steps + ' steps' : '');
        lineChart(grid, { title: title, width: chartWidth(2), height: 200, xLabel: 'step',
          yLabel: kind === 'loss' ? 'loss' : 'value', log: c.log, series: series,
          data: [c.steps].concat(c.series.map(function (s) { return s.values; })) });
      });
    });
  }

  // ------------------------------------------------------------ labeled-frame pixel error
  function boxPlot(keypoints, models, split) {
    var rowH = 14, gap = 8, left = 90, width = chartWidth(1), plotW = width - left - 20;
    var groupH = models.length * rowH + gap;
    var height = keypoints.length * groupH + 40;
    var maxV = 0;
    models.forEach(function (m) {
      keypoints.forEach(function (_, k) { var s = m.stats[split].keypoints[k]; if (num(s.p95)) maxV = Math.max(maxV, s.p95); });
    });
    if (maxV <= 0) maxV = 1;
    var sx = function (v) { return left + plotW * v / maxV; };
    var svg = svgEl('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, 'class': 'boxplot' });
    for (var t = 0; t <= 5; t++) {
      var v = maxV * t / 5, x = sx(v);
      svg.appendChild(svgEl('line', { x1: x, x2: x, y1: 0, y2: height - 30, stroke: '#eee' }));
      var lab = svgEl('text', { x: x, y: height - 16, 'font-size': 11, 'text-anchor': 'middle' });
      lab.textContent = v.toFixed(1);
      svg.appendChild(lab);
    }
    var axis = svgEl('text', { x: left + plotW / 2, y: height - 2, 'font-size': 12, 'text-anchor': 'middle' });
    axis.textContent = 'pixel error (px): box = quartiles, line = median, whiskers = 5th-95th percentile, dot = mean';
    svg.appendChild(axis);
    keypoints.forEach(function (name, k) {
      var y0 = k * groupH + 4;
      var lab = svgEl('text', { x: left - 6, y: y0 + models.length * rowH / 2 + 4, 'font-size': 12, 'text-anchor': 'end' });
      lab.textContent = name;
      svg.appendChild(lab);
      models.forEach(function (m, i) {
        var s = m.stats[split].keypoints[k], y = y0 + i * rowH + rowH / 2, c = modelColor(m.index);
        if (!s.n) return;
        var g = svgEl('g', {});
        var title = svgEl('title', {});
        title.textContent = name + ' · ' + m.name + ' (' + split + ', ' + s.n + ' frames): mean ' + fmt(s.mean) +
          ' px, median ' + fmt(s.median) + ', quartiles ' + fmt(s.q1) + '-' + fmt(s.q3) + ', 5-95% ' + fmt(s.p5) + '-' + fmt(s.p95);
        g.appendChild(title);
        g.appendChild(svgEl('line', { x1: sx(s.p5), x2: sx(s.p95), y1: y, y2: y, stroke: c }));
        g.appendChild(svgEl('rect', { x: sx(s.q1), y: y - rowH / 2 + 2, width: Math.max(1, sx(s.q3) - sx(s.q1)),
          height: rowH - 4, fill: c, 'fill-opacity': 0.35, stroke: c }));
        g.appendChild(svgEl('line', { x1: sx(s.median), x2: sx(s.median), y1: y - rowH / 2 + 2, y2: y + rowH / 2 - 2, stroke: c, 'stroke-width': 2 }));
        g.appendChild(svgEl('circle', { cx: sx(s.mean), cy: y, r: 2.5, fill: '#000' }));
        svg.appendChild(g);
      });
    });
    return svg;
  }

  function pixelErrorSection() {
    var P = R.pixel_errors;
    root.appendChild(el('h2', { text: 'Labeled frames: pixel error per keypoint and split' }));
    root.appendChild(el('p', { cls: 'note', text: 'From each model\'s predictions_pixel_error.csv (Euclidean distance ' +
      'to the label in original-frame pixels), as Lightning Pose\'s diagnostics show it.' }));
    arr(P.missing).forEach(function (w) { root.appendChild(el('div', { cls: 'warn', text: 'no labeled-frame errors: ' + w })); });
    var models = arr(P.models).map(function (m) {
      var index = 0;
      R.models.forEach(function (rm, i) { if (rm.name === m.name) index = i; });
      return { name: m.name, stats: m.stats, index: index };
    });
    if (!models.length) return;
    var controls = el('div', { cls: 'controls' }, el('span', { text: 'split: ' }));
    var holder = el('div');
    root.appendChild(controls);
    root.appendChild(holder);
    function show(split) {
      Array.prototype.forEach.call(controls.querySelectorAll('button'), function (b) { b.className = b.textContent === split ? 'on' : ''; });
      holder.innerHTML = '';
      var head = ['keypoint'];
      models.forEach(function (m) { head.push(m.name + ': mean px', 'median', 'frames'); });
      var rows = P.keypoints.concat(['all keypoints']).map(function (name, k) {
        var r = [name];
        models.forEach(function (m) {
          var s = k < P.keypoints.length ? m.stats[split].keypoints[k] : m.stats[split].all;
          r.push(fmt(s.mean), fmt(s.median), String(s.n));
        });
        return r;
      });
      holder.appendChild(table(head, rows));
      holder.appendChild(boxPlot(P.keypoints, models, split));
    }
    P.splits.forEach(function (split) {
      var b = el('button', { text: split });
      b.addEventListener('click', function () { show(split); });
      controls.appendChild(b);
    });
    var first = P.splits.filter(function (s) { return models[0].stats[s].all.n > 0; });
    show(first.indexOf('validation') >= 0 ? 'validation' : (first[0] || 'train'));
  }

  // ------------------------------------------------------------ videos
  // uPlot draw hook: shade the spans (occluded frames) of the chosen keypoint.
  function shadeSpans(getSpans) {
    return function (u) {
      var spans = getSpans();
      if (!spans || !spans.length) return;
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
      ctx.save();
      ctx.fillStyle = 'rgba(255, 140, 0, 0.18)';
      var xmin = u.scales.x.min, xmax = u.scales.x.max;
      spans.forEach(function (s) {
        if (s[1] < xmin || s[0] > xmax) return;
        var a = u.valToPos(s[0] - 0.5, 'x', true), b = u.valToPos(s[1] + 0.5, 'x', true);
        ctx.fillRect(a, top, Math.max(1, b - a), h);
      });
      ctx.restore();
    };
  }

  function videoSection(V, vi) {
    var box = el('div');
    root.appendChild(box);
    box.appendChild(el('h3', { text: 'Video ' + V.name + (V.video ? ' (' + V.video + ')' : '') }));
    var drawn = V.n_drawn < V.n_frames
      ? 'Traces draw ' + V.n_drawn + ' points of ' + V.n_frames + ' frames (each bucket of frames keeps its minimum and maximum, so spikes stay visible); every number in the tables uses all ' + V.n_frames + ' frames.'
      : 'Traces draw all ' + V.n_frames + ' frames.';
    box.appendChild(el('p', { cls: 'note', text: drawn }));
    arr(V.missing).forEach(function (w) { box.appendChild(el('div', { cls: 'warn', text: w })); });
    var K = R.keypoints.length, S = V.sources;
    // summary per source: means over keypoints of the per-keypoint means
    var head = ['predictions', 'mean temporal norm (px)', 'mean likelihood', 'frames below ' + V.threshold];
    if (V.truth) head.push('error vs truth (px)');
    if (V.occluded) head.push('error, visible (px)', 'error, occluded (px)');
    function avg(src, key) {
      var s = 0, n = 0;
      src.stats.forEach(function (st) { if (num(st[key])) { s += st[key]; n++; } });
      return n ? s / n : NaN;
    }
    box.appendChild(table(head, S.map(function (src) {
      var r = [src.label, fmt(avg(src, 'temporal_norm')), fmt(avg(src, 'likelihood'), 3), fmt(100 * avg(src, 'low_share'), 1) + ' %'];
      if (V.truth) r.push(fmt(avg(src, 'error')));
      if (V.occluded) r.push(fmt(avg(src, 'error_visible')), fmt(avg(src, 'error_occluded')));
      return r;
    })));
    if (V.truth) box.appendChild(el('p', { cls: 'note', text: 'Ground truth: ' + V.truth.csv +
      (V.occluded ? '; occluded frames (' + V.occluded.csv + ') are shaded orange on the traces.' : '') }));
    var details = el('details', {}, el('summary', { text: 'per keypoint' }));
    var kHead = ['keypoint', 'predictions', 'temporal norm', 'likelihood', 'below ' + V.threshold];
    if (V.truth) kHead.push('error');
    if (V.occluded) kHead.push('occluded error', 'occluded frames');
    var kRows = [];
    R.keypoints.forEach(function (name, k) {
      S.forEach(function (src) {
        var st = src.stats[k];
        var r = [name, src.label, fmt(st.temporal_norm), fmt(st.likelihood, 3), fmt(100 * st.low_share, 1) + ' %'];
        if (V.truth) r.push(fmt(st.error));
        if (V.occluded) r.push(fmt(st.error_occluded), String(V.occluded.n[k]));
        kRows.push(r);
      });
    });
    details.appendChild(table(kHead, kRows));
    box.appendChild(details);

    // keypoint chooser and the trace charts of the chosen keypoint
    var select = el('select');
    R.keypoints.forEach(function (name, k) { select.appendChild(el('option', { value: k, text: name })); });
    box.appendChild(el('div', { cls: 'controls' }, el('span', { text: 'keypoint: ' }), select,
      el('button', { text: 'all frames' })));
    var current = 0;
    var spansOf = function () { return V.occluded ? V.occluded.spans[current] : null; };
    var sync = 'video' + vi, width = chartWidth(1), vcharts = [];
    var kinds = [
      { key: 'x', title: 'x (px)', truth: true },
      { key: 'y', title: 'y (px)', truth: true },
      { key: 'likelihood', title: 'likelihood', range: [0, 1.02] },
      { key: 'temporal_norm', title: 'temporal norm (px moved since the previous frame)' },
    ];
    if (V.truth) kinds.push({ key: 'error', title: 'error vs ground truth (px)' });
    function seriesFor(kind) {
      var s = S.map(function (src, i) {
        return { label: src.label, stroke: modelColor(i), width: 1 };
      });
      if (kind.truth && V.truth) s.push({ label: 'ground truth', stroke: '#000', width: 1, dash: [4, 3] });
      return s;
    }
    function dataFor(kind, k) {
      var d = [V.frames].concat(S.map(function (src) { return src.traces[k][kind.key]; }));
      if (kind.truth && V.truth) d.push(V.truth[kind.key][k]);
      return d;
    }
    kinds.forEach(function (kind) {
      var u = lineChart(box, { title: kind.title, width: width, height: 170, xLabel: 'frame', yLabel: kind.title.split(' ')[0],
        series: seriesFor(kind), data: dataFor(kind, 0), sync: sync, yRange: kind.range,
        hooks: { draw: [shadeSpans(spansOf)] } });
      vcharts.push({ u: u, kind: kind });
    });
    if (V.disagreement) {
      var D = V.disagreement;
      var top = arr(D.top);
      var marks = function (u) {
        var ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = '#c00';
        top.forEach(function (t) {
          if (t.frame < u.scales.x.min || t.frame > u.scales.x.max) return;
          var x = u.valToPos(t.frame, 'x', true);
          ctx.fillRect(x - 1, u.bbox.top, 2, 8);
        });
        ctx.restore();
      };
      var du = lineChart(box, { title: 'disagreement: mean over keypoints of the largest distance between two predictions (px); red ticks: the frames listed below',
        width: width, height: 170, xLabel: 'frame', yLabel: 'px', series: [{ label: 'disagreement', stroke: '#555', width: 1 }],
        data: [V.frames, D.trace], sync: sync, hooks: { draw: [marks] } });
      vcharts.push({ u: du, fixed: true });
      box.appendChild(el('p', { cls: 'note', text: 'Frames where the predictions disagree most (ranked over all ' + V.n_frames +
        ' frames, at least 10 frames apart; mean ' + fmt(D.mean) + ' px over the video). Click a row to zoom the charts to it.' }));
      var h = ['frame', 'disagreement (px)', 'worst keypoint'];
      S.forEach(function (src) { h.push(src.label + ': likelihood' + (V.truth ? ' / error px' : '')); });
      var t = table(h, top.map(function (row) {
        var r = [String(row.frame), fmt(row.value), row.keypoint];
        row.sources.forEach(function (s) {
          r.push(fmt(s.likelihood, 3) + (V.truth ? ' / ' + fmt(s.error) + (s.occluded ? ' (occluded)' : '') : ''));
        });
        return r;
      }));
      Array.prototype.forEach.call(t.querySelectorAll('tr'), function (tr, i) {
        if (i === 0) return;
        var f = top[i - 1].frame;
        tr.className = 'pick';
        tr.addEventListener('click', function () { zoom(Math.max(0, f - 100), Math.min(V.n_frames - 1, f + 100)); });
      });
      box.appendChild(t);
    } else {
      box.appendChild(el('p', { cls: 'note', text: 'Disagreement needs predictions from two models or more; this video has one.' }));
    }
    function zoom(a, b) { vcharts.forEach(function (c) { c.u.setScale('x', { min: a, max: b }); }); }
    box.querySelector('.controls button').addEventListener('click', function () { zoom(0, V.n_frames - 1); });
    select.addEventListener('change', function () {
      current = Number(select.value);
      vcharts.forEach(function (c) {
        if (c.fixed) { c.u.redraw(); return; }
        var x = c.u.scales.x, keep = { min: x.min, max: x.max };
        c.u.setData(dataFor(c.kind, current)); // rescales y to the new keypoint...
        c.u.setScale('x', keep);                // ...and keeps the frames in view
      });
    });
  }

  // ------------------------------------------------------------ gallery
  function galleryFrame(F) {
    var card = el('div', { cls: 'frame' });
    var pic = el('div', { cls: 'pic' });
    card.appendChild(pic);
    var svg = svgEl('svg', { preserveAspectRatio: 'xMinYMin meet' });
    function drawOverlay(w, h) {
      svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
      var r = Math.max(w, h) / 90;
      F.preds.forEach(function (p, i) {
        p.keypoints.forEach(function (kp, k) {
          if (!num(kp[0]) || !num(kp[1])) return;
          var t = F.truth && F.truth[k];
          if (t && num(t[0]) && num(t[1])) {
            svg.appendChild(svgEl('line', { x1: t[0], y1: t[1], x2: kp[0], y2: kp[1], stroke: modelColor(i), 'stroke-width': r / 3, 'stroke-opacity': 0.8 }));
          }
          var c = svgEl('circle', { cx: kp[0], cy: kp[1], r: r, fill: modelColor(i), stroke: '#fff', 'stroke-width': r / 3 });
          var title = svgEl('title', {});
          var err = t && num(t[0]) ? Math.hypot(kp[0] - t[0], kp[1] - t[1]) : NaN;
          title.textContent = R.keypoints[k] + ' · ' + p.model + ': (' + fmt(kp[0], 1) + ', ' + fmt(kp[1], 1) + '), likelihood ' +
            fmt(kp[2], 3) + (num(err) ? ', error ' + fmt(err) + ' px' : '');
          c.appendChild(title);
          svg.appendChild(c);
        });
      });
      if (F.truth) F.truth.forEach(function (t, k) {
        if (!num(t[0]) || !num(t[1])) return;
        var g = svgEl('g', {});
        var title = svgEl('title', {});
        title.textContent = R.keypoints[k] + ' · ground truth (' + fmt(t[0], 1) + ', ' + fmt(t[1], 1) + ')';
        g.appendChild(title);
        g.appendChild(svgEl('circle', { cx: t[0], cy: t[1], r: r * 1.3, fill: 'none', stroke: '#000', 'stroke-width': r / 2 }));
        g.appendChild(svgEl('circle', { cx: t[0], cy: t[1], r: r * 1.3, fill: 'none', stroke: KP_COLORS[k % KP_COLORS.length], 'stroke-width': r / 4 }));
        svg.appendChild(g);
      });
    }
    if (F.image) {
      var img = el('img', { alt: F.path });
      img.addEventListener('load', function () { drawOverlay(img.naturalWidth, img.naturalHeight); });
      img.src = F.image;
      pic.appendChild(img);
    } else {
      pic.appendChild(el('div', { cls: 'noimg', text: 'image not found' }));
      var maxX = 1, maxY = 1;
      F.preds.forEach(function (p) { p.keypoints.forEach(function (kp) { if (num(kp[0])) maxX = Math.max(maxX, kp[0]); if (num(kp[1])) maxY = Math.max(maxY, kp[1]); }); });
      drawOverlay(maxX * 1.1, maxY * 1.1);
    }
    pic.appendChild(svg);
    card.appendChild(el('div', { cls: 'mono', text: F.path + ' (' + F.set + ')' }));
    F.preds.forEach(function (p, i) {
      card.appendChild(el('div', {}, el('span', { cls: 'swatch', style: 'background:' + modelColor(i) }),
        el('span', { text: p.model + ': mean error ' + fmt(p.mean_error) + ' px' })));
    });
    return card;
  }

  function gallerySection() {
    var G = R.gallery;
    root.appendChild(el('h2', { text: 'Labeled frames: gallery' }));
    root.appendChild(el('p', { cls: 'note', text: (G.note || '') + ' (' + arr(G.frames).length + ' of ' + (G.n_candidates || 0) +
      ' frames). Hover a marker for its keypoint, model, likelihood and error.' }));
    var legend = el('div', { cls: 'note' }, el('b', { text: 'Legend: ' }));
    legend.appendChild(el('span', { text: 'ring = ground truth (ring colour = keypoint); dot = prediction, line = its error; ' }));
    R.models.forEach(function (m, i) {
      legend.appendChild(el('span', { cls: 'swatch', style: 'background:' + modelColor(i) }));
      legend.appendChild(el('span', { text: m.name }));
    });
    legend.appendChild(el('br'));
    R.keypoints.forEach(function (name, k) {
      legend.appendChild(el('span', { cls: 'swatch', style: 'background:none;border:2px solid ' + KP_COLORS[k % KP_COLORS.length] }));
      legend.appendChild(el('span', { text: name }));
    });
    root.appendChild(legend);
    var g = el('div', { cls: 'gallery' });
    arr(G.frames).forEach(function (F) { g.appendChild(galleryFrame(F)); });
    root.appendChild(g);
  }

  // ------------------------------------------------------------ config differences
  function configSection() {
    root.appendChild(el('h2', { text: 'Config differences' }));
    var diffs = arr(R.config_differences);
    if (R.models.length < 2) { root.appendChild(el('p', { cls: 'note', text: 'One model: nothing to compare.' })); return; }
    if (!diffs.length) { root.appendChild(el('p', { cls: 'note', text: 'The configs are identical.' })); return; }
    var t = el('table');
    var tr = el('tr', {}, el('th', { cls: 'l', text: 'key (config.yaml)' }));
    R.models.forEach(function (m) { tr.appendChild(el('th', { cls: 'l', text: m.name })); });
    t.appendChild(tr);
    diffs.forEach(function (d) {
      var row = el('tr', {}, el('td', { cls: 'mono', text: d.key }));
      d.values.forEach(function (v) { row.appendChild(el('td', { cls: 'mono', text: v })); });
      t.appendChild(row);
    });
    root.appendChild(t);
  }

  // ------------------------------------------------------------ done: what the tests read
  function inked(canvas) {
    if (!canvas.width || !canvas.height) return false;
    var d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (var i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
    return false;
  }

  document.getElementById('loading').remove();
  root.appendChild(el('p', { cls: 'note', text: 'Written ' + R.generated + ' by lpose report; charts by uPlot ' + R.uplot_version +
    ' (MIT), inlined: this page loads nothing from the network.' }));
  modelsSection();
  lossSection();
  pixelErrorSection();
  root.appendChild(el('h2', { text: 'Videos' }));
  if (!arr(R.videos).length) root.appendChild(el('p', { cls: 'note', text: 'No video predictions (give --video, or predict videos into MODEL_DIR/video_preds).' }));
  arr(R.videos).forEach(videoSection);
  gallerySection();
  configSection();
  // uPlot may finish drawing in a microtask: count once the task is over
  setTimeout(function () {
    var canvases = document.querySelectorAll('.uplot canvas');
    var drawnCount = 0;
    Array.prototype.forEach.call(canvases, function (c) { if (inked(c)) drawnCount++; });
    var html = document.documentElement;
    html.setAttribute('data-charts', String(charts.length));
    html.setAttribute('data-charts-drawn', String(drawnCount));
    html.setAttribute('data-svg', String(document.querySelectorAll('svg').length));
    html.setAttribute('data-render-ms', performance.now().toFixed(0));
    html.setAttribute('data-rendered', 'ok');
  }, 0);
})();

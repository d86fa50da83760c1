/* deadweight HTML report: draws the charts from the JSON document embedded in the page.
   Tables are plain HTML written by deadweight; this script only adds the charts. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dw-data").textContent);
  var report = { data: data, charts: {} };
  window.dwReport = report;

  var UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];
  function bytes(n) {
    var sign = n < 0 ? "-" : "";
    var v = Math.abs(n), i = 0;
    while (v >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
    return sign + (i === 0 ? String(v) : v.toPrecision(3)) + UNITS[i];
  }
  function signed(n) { return (n > 0 ? "+" : "") + bytes(n); }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  report.bytes = bytes;

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    report.charts[id] = c;
    return c;
  }

  function color(kind) { return data.colors[kind] || data.colors.other; }

  function paint(node) {
    node.itemStyle = { color: color(node.kind) };
    if (node.children) { node.children.forEach(paint); }
    return node;
  }

  function drawTreemap() {
    var c = chart("treemap");
    if (!c) { return; }
    var root = data.map;
    (root.children || []).forEach(paint);
    c.setOption({
      animation: false,
      tooltip: {
        formatter: function (p) {
          var d = p.data || {};
          var where = d.id === undefined ? "" : "/" + d.id;
          var lines = ["<b>" + esc(where || p.name) + "</b>", esc(bytes(p.value || 0)) +
            (d.files ? " in " + d.files + " file" + (d.files === 1 ? "" : "s") : "")];
          (d.kinds || []).forEach(function (k) {
            lines.push(esc(k[0]) + ": " + esc(bytes(k[1])));
          });
          return lines.join("<br>");
        }
      },
      series: [{
        type: "treemap",
        name: "/",
        data: root.children || [],
        leafDepth: 2,
        roam: false,
        animation: false,
        nodeClick: false,  /* our handler below: a click always makes a directory the root */
        left: 0,
        right: 0,
        top: 0,
        bottom: 34,
        breadcrumb: { show: true, bottom: 4 },
        label: { show: true, formatter: "{b}", overflow: "truncate" },
        upperLabel: { show: true, height: 18, color: "#1d2330" },
        itemStyle: { borderColor: "#fff", gapWidth: 1 },
        levels: [
          { itemStyle: { borderWidth: 2, borderColor: "#fff", gapWidth: 2 } },
          { itemStyle: { borderWidth: 3, borderColor: "#e6e8ec", gapWidth: 1 } },
          { itemStyle: { borderWidth: 1, borderColor: "#fff", gapWidth: 1 } }
        ]
      }]
    });
    var caption = document.getElementById("treemap-root");
    function showRoot() {
      var model = c.getModel().getSeriesByIndex(0);
      var node = model && model.getViewRoot ? model.getViewRoot() : null;
      var id = node && node.getModel ? node.getModel().get("id") : undefined;
      var path = id ? "/" + id : "/";
      report.treemapRoot = path;
      if (caption && caption.textContent !== path) { caption.textContent = path; }
    }
    c.on("finished", showRoot);
    showRoot();
    /* A click zooms into the directory clicked, or into the one holding the file clicked. */
    c.on("click", function (p) {
      var tree = c.getModel().getSeriesByIndex(0).getData().tree;
      var node = p.data && p.data.id !== undefined ? tree.root.getNodeById(p.data.id) : null;
      if (node && !(node.children && node.children.length)) { node = node.parentNode; }
      if (!node || node === tree.root) { return; }
      c.dispatchAction({ type: "treemapRootToNode", seriesIndex: 0, targetNode: node });
      showRoot();
    });
    /* Where a region is drawn, in pixels of the chart's element: for tests and links. */
    report.regionBox = function (path) {
      var model = c.getModel().getSeriesByIndex(0);
      var tree = model.getData().tree;
      var found = null;
      tree.eachNode(function (n) {
        if (!found && n.getModel().get("id") === path) { found = n; }
      });
      if (!found || !found.getLayout() || !found.getLayout().isInView) { return null; }
      var x = model.layoutInfo.x, y = model.layoutInfo.y, n = found;
      var chain = [];
      while (n) { chain.push(n); n = n.parentNode; }
      chain.forEach(function (m) {
        var l = m.getLayout();
        if (l) { x += l.x; y += l.y; }
      });
      var own = found.getLayout();
      return { x: x, y: y, width: own.width, height: own.height };
    };
  }

  function barChart(id, categories, series, opts) {
    var c = chart(id);
    if (!c) { return; }
    c.setOption({
      animation: false,
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (items) {
          var head = "<b>" + esc(items[0].axisValue) + "</b>";
          return [head].concat(items.map(function (it) {
            return it.marker + esc(it.seriesName) + ": " + esc((opts.signed ? signed : bytes)(it.value));
          })).join("<br>");
        }
      },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { formatter: opts.signed ? signed : bytes } },
      yAxis: {
        type: "category", inverse: true, data: categories,
        axisLabel: { width: 420, overflow: "truncate", fontFamily: "monospace" }
      },
      series: series.map(function (s) {
        return {
          type: "bar", name: s.name, data: s.data, stack: opts.stack ? "all" : undefined,
          itemStyle: { color: s.color }, barMaxWidth: opts.barMaxWidth || 22
        };
      })
    });
  }

  function drawAnalyze() {
    drawTreemap();
    var layers = data.layers;
    var kinds = [
      ["added", "added", "#2f9e44"], ["modified", "modified", "#f59f00"],
      ["deleted", "deleted (hidden from earlier layers)", "#495057"],
      ["wasted", "wasted (hidden by a later layer)", data.colors.waste]
    ];
    barChart("layers", layers.map(function (l) { return l.label; }), kinds.map(function (k) {
      return { name: k[1], color: k[2], data: layers.map(function (l) {
        return { value: l[k[0]], itemStyle: { color: k[2], opacity: l.base ? 0.45 : 1 } };
      }) };
    }), { barMaxWidth: 10 });
  }

  function drawDiff() {
    var steps = data.steps;
    barChart("steps", steps.map(function (s) { return s.label; }), [
      { name: data.a, color: "#8d99ae", data: steps.map(function (s) { return s.a; }) },
      { name: data.b, color: "#2b6cb0", data: steps.map(function (s) { return s.b; }) }
    ], {});
    var dirs = data.dirs;
    barChart("dirs", dirs.map(function (d) { return d.path; }), [
      { name: "change", color: "#2b6cb0", data: dirs.map(function (d) {
        return { value: d.delta, itemStyle: { color: d.delta > 0 ? "#c2410c" : "#15803d" } };
      }) }
    ], { signed: true });
  }

  function drawOptimize() {
    barChart("sizes", ["before", "after"], [
      { name: "size", color: "#2b6cb0", data: [data.before, data.after] }
    ], {});
    var steps = data.savings;
    barChart("savings", steps.map(function (s) { return s.label; }), [
      { name: "saved", color: "#15803d", data: steps.map(function (s) { return s.bytes; }) }
    ], {});
    if (data.dirs) {
      barChart("dirs", data.dirs.map(function (d) { return d.path; }), [
        { name: "removed", color: "#15803d", data: data.dirs.map(function (d) { return -d.delta; }) }
      ], {});
    }
  }

  function drawFleet() {
    var images = data.images;
    barChart("images", images.map(function (i) { return i.label; }), [
      { name: "kept", color: data.colors.app, data: images.map(function (i) { return i.kept; }) },
      { name: "reclaimable (hidden by a later layer)", color: data.colors.waste,
        data: images.map(function (i) { return i.wasted; }) }
    ], { stack: true });
  }

  var draw = {
    analyze: drawAnalyze, diff: drawDiff, optimize: drawOptimize, minify: drawOptimize,
    fleet: drawFleet
  }[data.kind];
  if (draw) { draw(); }
  window.addEventListener("resize", function () {
    Object.keys(report.charts).forEach(function (k) { report.charts[k].resize(); });
  });
  document.body.setAttribute("data-ready", "1");
})();

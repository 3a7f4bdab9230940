// The dashboards' charts (ECharts, served by the console itself, SVG renderer). Each chart's figures come
// from its data-chart attribute, written by the server from the same rows as the table under it, so the
// picture cannot say anything the table does not. No inline script or style: the page's CSP forbids them
// (sizes are set through the CSSOM, which CSP allows). Downloads: the SVG as drawn, and a PNG drawn again
// off-screen by the canvas renderer at twice the resolution; both named by the year and the title. A chart
// with links (coverage: a street's persons) follows the link of the bar clicked.
(() => {
  "use strict";

  const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif';
  const PALETTE = ["#1f5fa8", "#d9822b", "#3a8f5c", "#7b4fa6", "#8c564b", "#2b8a9e"];
  const TARGET = "#b3261e";
  const HEIGHT = { pie: 360, other: 420 };
  const drawn = new Map(); // chart element id -> { chart, option, name }

  const figure = (value, unit) => {
    if (value === null || value === undefined) return "—";
    if (unit === "%") return `${Number(value).toFixed(1)}%`;
    if (unit === "元") return `${Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 0 })}元`;
    return `${Number(value).toLocaleString("zh-CN")}${unit}`;
  };

  const byLabel = (series) => (params) => (series.labels ? series.labels[params.dataIndex] : "");

  // The category axis's labels (months, streets, spending rules) stand level, every one of them, where
  // they fit. On a narrow chart (a phone) they turn 45°, cut to LABEL_WIDTH; where even turned they
  // would touch, ECharts leaves out those that would overlap. The table under the chart names every
  // category.
  const LABEL_SIZE = 12;
  const LABEL_WIDTH = 100;
  const GRID = { left: 72, right: 32, twoAxes: 72 };
  const measure = document.createElement("canvas").getContext("2d");

  function textWidth(text) {
    measure.font = `${LABEL_SIZE}px ${FONT}`;
    return measure.measureText(String(text)).width;
  }

  function categoryLabels(spec, width) {
    const plot = width - GRID.left - (spec.axes.length > 1 ? GRID.twoAxes : GRID.right);
    const slot = plot / Math.max(spec.categories.length, 1);
    const widest = Math.max(0, ...spec.categories.map(textWidth));
    if (widest + 8 <= slot) return { interval: 0 };
    // Turned 45°, a label takes about 1.5 lines of text along the axis.
    const turned = { rotate: 45, width: LABEL_WIDTH, overflow: "truncate", hideOverlap: true };
    return { ...turned, interval: slot >= LABEL_SIZE * 1.5 ? 0 : "auto" };
  }

  function targetLine(target) {
    return {
      silent: true,
      symbol: "none",
      lineStyle: { color: TARGET, type: "dashed", width: 2 },
      label: { formatter: target.label, position: "insideEndTop", color: TARGET, fontWeight: "bold" },
      data: [{ yAxis: target.value }],
    };
  }

  function seriesOf(spec, series, index) {
    const unit = (spec.axes[series.axis] || { unit: "人" }).unit;
    const common = { name: series.name, yAxisIndex: series.axis, data: series.data };
    if (series.kind === "marker") {
      // A target per category (a county's 任务数): a short bold dash across its bar.
      return {
        ...common,
        type: "scatter",
        symbol: "rect",
        symbolSize: [34, 4],
        itemStyle: { color: TARGET },
        z: 5,
        label: { show: true, position: "right", color: TARGET, formatter: (p) => figure(p.value, unit) },
      };
    }
    if (series.kind === "line") {
      return { ...common, type: "line", symbol: "circle", symbolSize: 6, lineStyle: { width: 2 } };
    }
    const bar = { ...common, type: "bar", barMaxWidth: 48, stack: series.stack || undefined };
    if (series.labels) bar.label = { show: true, position: "top", formatter: byLabel(series) };
    if (index === 0 && series.stack === null) bar.itemStyle = { color: PALETTE[0] };
    return bar;
  }

  function cartesian(spec, width) {
    const series = spec.series.map((each, index) => seriesOf(spec, each, index));
    if (spec.target) {
      const host = series.find((each) => each.yAxisIndex === spec.target.axis && each.type !== "scatter");
      if (host) host.markLine = targetLine(spec.target);
      else series.push({ type: "line", name: spec.target.label, yAxisIndex: spec.target.axis, data: [], markLine: targetLine(spec.target) });
    }
    return {
      legend: { show: spec.series.length > 1, bottom: 0, data: spec.series.map((each) => each.name) },
      grid: { left: GRID.left, right: spec.axes.length > 1 ? GRID.twoAxes : GRID.right, top: 64, bottom: 72 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: spec.categories, axisLabel: categoryLabels(spec, width) },
      yAxis: spec.axes.map((axis) => ({
        type: "value",
        name: axis.name,
        max: axis.max === null ? undefined : axis.max,
        minInterval: axis.unit === "%" || axis.unit === "元" ? undefined : 1,
        axisLabel: { formatter: (value) => figure(value, axis.unit) },
        splitLine: { show: axis === spec.axes[0] },
      })),
      series,
    };
  }

  function pie(spec) {
    const series = spec.series[0];
    return {
      legend: { bottom: 0 },
      tooltip: { trigger: "item" },
      series: [{
        type: "pie",
        name: series.name,
        radius: ["38%", "66%"],
        center: ["50%", "52%"],
        data: spec.categories.map((name, index) => ({ name, value: series.data[index] })),
        label: { formatter: (p) => `${p.name}\n${byLabel(series)(p)}` },
      }],
    };
  }

  function optionOf(spec, width) {
    const isPie = spec.series.length > 0 && spec.series[0].kind === "pie";
    return {
      animation: false,
      backgroundColor: "#ffffff",
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      aria: { enabled: true, label: { description: `${spec.title}（图中数字见下表）` } },
      title: { text: spec.title, left: "center", top: 8, textStyle: { fontSize: 16 } },
      ...(isPie ? pie(spec) : cartesian(spec, width)),
    };
  }

  function draw(element) {
    const spec = JSON.parse(element.dataset.chart);
    const isPie = spec.series.length > 0 && spec.series[0].kind === "pie";
    element.style.height = `${isPie ? HEIGHT.pie : HEIGHT.other}px`;
    const chart = echarts.init(element, null, { renderer: "svg", locale: "ZH" });
    const option = optionOf(spec, element.clientWidth);
    chart.setOption(option);
    if (spec.links) {
      // The drill-down: a street's bar leads to its persons, as the table's link beside it does.
      chart.on("click", (params) => {
        const link = params.componentType === "series" ? spec.links[params.dataIndex] : null;
        if (link) window.location.assign(link);
      });
    }
    drawn.set(element.id, { chart, option, spec, name: spec.file });
    element.dataset.drawn = "true";
  }

  function save(url, name) {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function png(entry, element) {
    // The canvas renderer draws the same option again, off-screen, at twice the resolution.
    const holder = document.createElement("div");
    const copy = echarts.init(holder, null, {
      renderer: "canvas",
      width: element.clientWidth,
      height: element.clientHeight,
    });
    copy.setOption(entry.option);
    const url = copy.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
    copy.dispose();
    return url;
  }

  function download(button) {
    const element = document.getElementById(button.dataset.chartId);
    const entry = element && drawn.get(element.id);
    if (!entry) return;
    if (button.dataset.download === "svg") {
      save(entry.chart.getDataURL({ type: "svg" }), `${entry.name}.svg`);
    } else {
      save(png(entry, element), `${entry.name}.png`);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof echarts === "undefined") return; // the page keeps its tables and CSV downloads
    for (const element of document.querySelectorAll("[data-chart]")) draw(element);
    for (const button of document.querySelectorAll("button[data-download]")) {
      button.addEventListener("click", () => download(button));
    }
    window.addEventListener("resize", () => {
      for (const [id, entry] of drawn) {
        // A phone turned, a window narrowed: the labels are laid out again for the new width.
        if (!entry.option.xAxis) {
          entry.chart.resize();
          continue;
        }
        entry.option = optionOf(entry.spec, document.getElementById(id).clientWidth);
        entry.chart.setOption(entry.option, true);
        entry.chart.resize();
      }
    });
  });
})();

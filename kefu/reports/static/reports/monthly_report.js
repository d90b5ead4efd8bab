// Monthly report page: each section's charts, drawn with ECharts from the data the page embeds.
(function () {
  if (!window.echarts) { return; }
  var holders = document.querySelectorAll(".report-chart");
  var charts = [];
  function allIntegers(series) {
    return series.every(function (s) {
      return s.data.every(function (v) { return v === null || Number.isInteger(v); });
    });
  }
  holders.forEach(function (holder) {
    var source = document.getElementById(holder.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(holder, null, { renderer: "svg" });
    var option;
    if (data.kind === "pie") {
      var first = (data.series[0] || { data: [] }).data;
      option = {
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: "65%", data: data.categories.map(function (name, i) {
          return { name: name, value: first[i] };
        }) }]
      };
    } else {
      // many or long category names (days of a month, product models) are slanted so they
      // neither overlap each other nor the legend, which sits at the top
      var longest = data.categories.reduce(function (n, c) { return Math.max(n, String(c).length); }, 0);
      var slanted = data.categories.length > 12 || (data.categories.length > 5 && longest > 6);
      option = {
        grid: { left: 60, right: 20, top: data.series.length > 1 ? 40 : 20, bottom: 10, containLabel: true },
        tooltip: { trigger: "axis" },
        legend: { show: data.series.length > 1, top: 0 },
        xAxis: {
          type: "category",
          data: data.categories,
          axisLabel: { interval: data.categories.length > 16 ? "auto" : 0, rotate: slanted ? 35 : 0, width: 140, overflow: "truncate" }
        },
        yAxis: { type: "value", minInterval: allIntegers(data.series) ? 1 : 0 },
        series: data.series.map(function (s) {
          return { type: data.kind === "line" ? "line" : "bar", name: s.name, data: s.data };
        })
      };
    }
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
  });
  function resizeAll() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resizeAll);
  // a chart drawn in a hidden tab has no width: size it when its tab is shown
  document.querySelectorAll('[data-bs-toggle="tab"]').forEach(function (tab) {
    tab.addEventListener("shown.bs.tab", resizeAll);
  });
})();

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
      option = {
        grid: { left: 50, right: 20, top: 30, bottom: 40 },
        tooltip: { trigger: "axis" },
        legend: { show: data.series.length > 1 },
        xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0 } },
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
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();

// Home page: customers per region, drawn with ECharts from data the page embeds.
(function () {
  var holder = document.getElementById("region-chart");
  var source = document.getElementById("region-chart-data");
  if (!holder || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(holder, null, { renderer: "svg" });
  chart.setOption({
    grid: { left: 40, right: 20, top: 20, bottom: 40 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.values, itemStyle: { color: "#1d3b64" } }],
    animation: false
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();

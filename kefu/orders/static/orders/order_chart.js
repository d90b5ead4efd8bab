// The archive page's 24-month order chart: revenue and gross profit bars per month, from the
// figures the panel embeds with json_script (no CDN, no request).
(function () {
  function draw(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    var source = document.getElementById(element.dataset.figures);
    if (!source) return;
    var figures = JSON.parse(source.textContent);
    element.dataset.drawn = "1";
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, right: 0, data: [element.dataset.revenueLabel, element.dataset.profitLabel] },
      grid: { left: 60, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: figures.map(function (f) { return f.month; }) },
      yAxis: { type: "value" },
      series: [
        { name: element.dataset.revenueLabel, type: "bar", data: figures.map(function (f) { return Number(f.revenue); }) },
        { name: element.dataset.profitLabel, type: "bar", data: figures.map(function (f) { return Number(f.profit); }) }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function drawAll() { document.querySelectorAll(".kefu-order-chart").forEach(draw); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  document.addEventListener("htmx:afterSettle", drawAll);
})();

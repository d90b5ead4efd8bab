// The supervisor dashboard: draw the two charts from the data the page embeds, then fetch
// /dashboard/data/ every refresh interval and update the figures, the KPI cards, the charts and
// the two tables in place (no reload). Every figure and every bar links to its tickets.
(function () {
  "use strict";
  var config = document.getElementById("dashboard-config");
  var source = document.getElementById("dashboard-data");
  if (!config || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var charts = {};

  function dig(object, path) {
    return path.split(".").reduce(function (value, key) {
      return value == null ? undefined : value[key];
    }, object);
  }

  function barOption(block, color) {
    return {
      grid: { left: 48, right: 16, top: 16, bottom: 48 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: block.categories, axisLabel: { interval: 0, hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        type: "bar", data: block.counts, barMaxWidth: 48, itemStyle: { color: color },
        label: { show: true, position: "top" }
      }],
      animation: false
    };
  }

  function drawChart(id, block, color) {
    var holder = document.getElementById(id);
    if (!holder) { return; }
    var chart = charts[id];
    if (!chart) {
      chart = window.echarts.init(holder, null, { renderer: "canvas" });
      chart.on("click", function (params) {
        var link = chart.kefuLinks && chart.kefuLinks[params.dataIndex];
        if (link) { window.location.href = link; }
      });
      charts[id] = chart;
    }
    chart.kefuLinks = block.links;
    chart.setOption(barOption(block, color), true);
    holder.setAttribute("data-drawn", String(block.counts.reduce(function (a, b) { return a + b; }, 0)));
  }

  function cell(row, text, className, href) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    row.appendChild(td);
    return td;
  }

  function emptyRow(body, columns, text) {
    var row = document.createElement("tr");
    var td = cell(row, text, "text-secondary");
    td.colSpan = columns;
    body.appendChild(row);
  }

  function renderUrgent(items) {
    var body = document.getElementById("urgent-rows");
    if (!body) { return; }
    body.replaceChildren();
    items.forEach(function (item) {
      var row = document.createElement("tr");
      cell(row, item.number, "", item.link);
      var subject = cell(row, item.subject, "text-truncate");
      subject.style.maxWidth = "16rem";
      cell(row, item.due_kind + " " + item.due_at);
      cell(row, item.left, item.overdue ? "text-danger" : "text-orange");
      cell(row, item.assignee);
      body.appendChild(row);
    });
    if (!items.length) { emptyRow(body, 5, config.dataset.emptyUrgent); }
  }

  function renderAgents(agents) {
    agents.presence.forEach(function (item) {
      var badge = document.querySelector('[data-presence="' + item.status + '"] strong');
      if (badge) { badge.textContent = item.count; }
    });
    var body = document.getElementById("agent-rows");
    if (!body) { return; }
    body.replaceChildren();
    agents.rows.forEach(function (agent) {
      var row = document.createElement("tr");
      cell(row, agent.name);
      cell(row, agent.status_display);
      cell(row, String(agent.open), "text-end", agent.open_link);
      cell(row, String(agent.resolved_today), "text-end", agent.resolved_link);
      body.appendChild(row);
    });
    if (!agents.rows.length) { emptyRow(body, 4, config.dataset.emptyAgents); }
  }

  function render(next) {
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var value = dig(next, node.getAttribute("data-figure"));
      if (value !== undefined) { node.textContent = value; }
    });
    document.querySelectorAll("[data-link]").forEach(function (node) {
      var figure = dig(next, node.getAttribute("data-link"));
      if (figure && figure.link) { node.setAttribute("href", figure.link); }
    });
    document.querySelectorAll("[data-kpi]").forEach(function (node) {
      var parts = node.getAttribute("data-kpi").split(".");
      var card = (next.kpis[parts[0]] || []).filter(function (item) { return item.key === parts[1]; })[0];
      if (!card) { return; }
      var holder = node.querySelector("[data-kpi-value]");
      if (card.value === null) {
        var na = document.createElement("span");
        na.className = "dash-na";
        na.textContent = config.dataset.na;
        holder.replaceChildren(na);
      } else {
        holder.textContent = card.display;
      }
      node.setAttribute("href", card.link);
    });
    document.getElementById("dash-generated").textContent = next.generated_at;
    drawChart("chart-status", next.tickets.by_status, "#1d3b64");
    drawChart("chart-age", next.tickets.by_age, "#f59f00");
    renderUrgent(next.urgent);
    renderAgents(next.agents);
  }

  function refresh() {
    fetch(config.dataset.url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (next) {
        document.getElementById("dash-error").classList.add("d-none");
        render(next);
      })
      .catch(function () {
        document.getElementById("dash-error").classList.remove("d-none");
      });
  }

  render(data);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });
  window.setInterval(refresh, Number(config.dataset.refreshMs) || 30000);
})();

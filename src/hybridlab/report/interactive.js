// The interactive figures of a hybridlab report (hybridlab/report/interactive.py): drawn by
// Plotly from the JSON element #hybridlab-data. Text from the data is set as textContent, never
// as HTML. Every error is kept in window.hybridlabErrors and shown on the page.
(function () {
  "use strict";
  window.hybridlabErrors = window.hybridlabErrors || [];
  window.addEventListener("error", function (event) {
    window.hybridlabErrors.push(String(event.message));
  });

  var data = JSON.parse(document.getElementById("hybridlab-data").textContent);
  var COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];
  var CONFIG = {displaylogo: false, responsive: true};

  // Plotly reads titles, legend entries and menu labels as markup, and "%{…}" in them as a
  // template: text from the files is escaped before it gets there (a zero-width space keeps "%{"
  // literal), and hover labels name their trace by %{fullData.name}.
  function markup(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/%\{/g, "%\u200b{");
  }
  function colour(name) {
    return COLOURS[data.models.indexOf(name) % COLOURS.length];
  }
  function unit(name) {
    var u = data.units && data.units[name];
    return u ? " (" + u + ")" : "";
  }
  function label(name) {
    return markup(name + unit(name));
  }
  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function format(value, digits) {
    // As Python's "g": significant digits, trailing zeros dropped.
    return value === null || value === undefined ? "—" : String(Number(Number(value).toPrecision(digits || 4)));
  }
  // The training region as a dashed rectangle (a Plotly shape) on the maps.
  function regionShape() {
    var region = data.train_region || {};
    var x = region[data.inputs[0]], y = region[data.inputs[1]];
    if (!x || !y) return [];
    return [{type: "rect", x0: x[0], x1: x[1], y0: y[0], y1: y[1], line: {dash: "dash", color: "black", width: 1.5}}];
  }

  // The training range of the first input, shaded across a curve plot (none if unknown).
  function trainingBand() {
    var region = (data.train_region || {})[data.inputs[0]];
    return region ? [{type: "rect", x0: region[0], x1: region[1], y0: 0, y1: 1, yref: "paper",
      fillcolor: "rgba(0,0,0,0.07)", line: {width: 0}}] : [];
  }

  // --- the launch explorer: sliders, the table, the marker, the speed curve, the trajectory ---
  var state = {i: 0, j: 0};  // speed index (columns), angle index (rows) of data.grid
  var hidden = {};

  function layerOptions() {
    var options = [{name: "true", z: data.grid.layers["true"], scale: "Viridis"}];
    data.models.forEach(function (name) {
      if (!data.grid.layers[name]) return;
      options.push({name: name, z: data.grid.layers[name], scale: "Viridis"});
      var truth = data.grid.layers["true"];
      options.push({name: name + " − true", scale: "RdBu", error: true, z: data.grid.layers[name].map(function (row, r) {
        return row.map(function (v, c) { return v === null || truth[r][c] === null ? null : v - truth[r][c]; });
      })});
    });
    return options;
  }

  function drawMaps() {
    var options = layerOptions();
    var heat = {type: "heatmap", x: data.grid.x, y: data.grid.y, z: options[0].z, colorscale: options[0].scale,
      colorbar: {title: {text: label(data.output)}},
      meta: [label(data.inputs[0]), label(data.inputs[1]), label(data.output)],
      hovertemplate: "%{meta[0]} %{x:.4g}<br>%{meta[1]} %{y:.4g}<br>%{meta[2]} %{z:.4g}<extra>%{fullData.name}</extra>",
      name: markup(options[0].name)};
    var marker = {type: "scatter", mode: "markers", x: [data.grid.x[state.i]], y: [data.grid.y[state.j]],
      marker: {symbol: "x", size: 14, color: "red", line: {width: 2}}, name: "chosen launch", hoverinfo: "skip"};
    var buttons = options.map(function (option) {
      return {label: markup(option.name), method: "restyle",
        args: [{z: [option.z], colorscale: [option.scale], zmid: [option.error ? 0 : null], name: [markup(option.name)]},
          [0]]};
    });
    var layout = {height: 520, margin: {t: 60}, xaxis: {title: {text: label(data.inputs[0])}},
      yaxis: {title: {text: label(data.inputs[1])}}, shapes: regionShape(), showlegend: false,
      updatemenus: [{buttons: buttons, x: 0, y: 1.15, xanchor: "left", yanchor: "top", direction: "down"}],
      annotations: [{text: "dashed: the training region", showarrow: false, x: 1, y: 1.1, xref: "paper",
        yref: "paper", xanchor: "right"}]};
    Plotly.newPlot("maps-plot", [heat, marker], layout, CONFIG);
  }

  function drawSpeedCurve() {
    var j = state.j, traces = [];
    traces.push({x: data.grid.x, y: data.grid.layers["true"][j], name: "true", line: {color: "black", width: 3},
      hovertemplate: "%{y:.4g}<extra>true</extra>"});
    data.models.forEach(function (name) {
      if (!data.grid.layers[name]) return;
      traces.push({x: data.grid.x, y: data.grid.layers[name][j], name: markup(name), meta: name,
        line: {color: colour(name)}, visible: hidden[name] ? "legendonly" : true,
        hovertemplate: "%{y:.4g}<extra>%{fullData.name}</extra>"});
    });
    var x = data.grid.x[state.i];
    var shapes = [{type: "line", x0: x, x1: x, y0: 0, y1: 1, yref: "paper", line: {color: "red", width: 2}}]
      .concat(trainingBand());
    var layout = {height: 400, margin: {t: 40}, shapes: shapes, hovermode: "x unified",
      title: {x: 0.01, xanchor: "left", text: markup(data.output + " against " + data.inputs[0] + " at " +
        data.inputs[1] + " " + format(data.grid.y[j]) + unit(data.inputs[1]))},
      xaxis: {title: {text: label(data.inputs[0])}}, yaxis: {title: {text: label(data.output)}}};
    Plotly.react("explorer-speed", traces, layout, CONFIG);
  }

  // A click on a legend entry of the speed curve hides or shows that model as its box does, so
  // that the next redraw keeps it.
  function followLegend() {
    document.getElementById("explorer-speed").on("plotly_legendclick", function (event) {
      var name = event.data[event.curveNumber].meta;
      if (!name) return false;
      hidden[name] = !hidden[name];
      document.getElementById("show-" + name).checked = !hidden[name];
      update();
      return false;
    });
  }

  function drawTrajectory() {
    if (!data.trajectories) return;
    var path = data.trajectories[state.j * data.grid.x.length + state.i];
    var layout = {height: 400, margin: {t: 40},
                  title: {x: 0.01, xanchor: "left", text: "the true trajectory of the chosen launch"},
      xaxis: {title: {text: "x (m)"}}, yaxis: {title: {text: "y (m)"}, scaleanchor: "x"}};
    var traces = path ? [{x: path[0], y: path[1], mode: "lines+markers", line: {color: "black"}, name: "trajectory",
      hovertemplate: "x %{x:.4g} m<br>y %{y:.4g} m<extra></extra>"}] : [];
    Plotly.react("explorer-trajectory", traces, layout, CONFIG);
  }

  function updateTable() {
    var truth = data.grid.layers["true"][state.j][state.i];
    document.getElementById("value-true").textContent = format(truth);
    data.models.forEach(function (name) {
      var layer = data.grid.layers[name];
      if (!layer) return;
      var value = layer[state.j][state.i];
      document.getElementById("value-" + name).textContent = format(value);
      document.getElementById("error-" + name).textContent =
        value === null || truth === null ? "—" : format(value - truth, 3);
      document.getElementById("row-" + name).style.opacity = hidden[name] ? 0.4 : 1;
    });
    document.getElementById("speed-value").textContent = format(data.grid.x[state.i]) + unit(data.inputs[0]);
    document.getElementById("angle-value").textContent = format(data.grid.y[state.j]) + unit(data.inputs[1]);
    var region = data.train_region || {};
    var inside = [0, 1].every(function (k) {
      var r = region[data.inputs[k]], v = k === 0 ? data.grid.x[state.i] : data.grid.y[state.j];
      return r && v >= r[0] && v <= r[1];
    });
    document.getElementById("launch-where").textContent = inside ? "inside the training region" :
      "outside the training region: the models extrapolate";
  }

  function update() {
    updateTable();
    Plotly.restyle("maps-plot", {x: [[data.grid.x[state.i]]], y: [[data.grid.y[state.j]]]}, [1]);
    drawSpeedCurve();
    drawTrajectory();
  }

  function slider(id, name, values, index) {
    var box = element("div", {class: "slider"});
    var input = element("input", {type: "range", id: id, min: 0, max: values.length - 1, step: 1, value: index});
    input.style.width = "24rem";
    var shown = element("span", {id: id.replace("-slider", "-value")});
    box.appendChild(element("label", {for: id}, name + " "));
    box.appendChild(input);
    box.appendChild(shown);
    return box;
  }

  function drawExplorer() {
    var root = document.getElementById("explorer");
    state.i = Math.floor(data.grid.x.length / 2);
    state.j = Math.floor(data.grid.y.length / 2);
    root.appendChild(slider("speed-slider", data.inputs[0], data.grid.x, state.i));
    root.appendChild(slider("angle-slider", data.inputs[1], data.grid.y, state.j));
    root.appendChild(element("p", {id: "launch-where"}));
    var table = element("table", {id: "launch-table"});
    var head = element("tr");
    ["show", "model", data.output + unit(data.output), "model − true"].forEach(function (h) {
      head.appendChild(element("th", {}, h));
    });
    table.appendChild(head);
    var truthRow = element("tr", {id: "row-true"});
    truthRow.appendChild(element("td"));
    truthRow.appendChild(element("td", {}, "true"));
    truthRow.appendChild(element("td", {id: "value-true", class: "num"}));
    truthRow.appendChild(element("td"));
    table.appendChild(truthRow);
    data.models.forEach(function (name) {
      if (!data.grid.layers[name]) return;
      var row = element("tr", {id: "row-" + name});
      var cell = element("td");
      var box = element("input", {type: "checkbox", id: "show-" + name});
      box.checked = true;
      box.addEventListener("change", function () {
        hidden[name] = !box.checked;
        update();
      });
      cell.appendChild(box);
      row.appendChild(cell);
      row.appendChild(element("td", {}, name));
      row.appendChild(element("td", {id: "value-" + name, class: "num"}));
      row.appendChild(element("td", {id: "error-" + name, class: "num"}));
      table.appendChild(row);
    });
    root.appendChild(table);
    var plots = element("div", {class: "plots"});
    plots.appendChild(element("div", {id: "explorer-speed"}));
    plots.appendChild(element("div", {id: "explorer-trajectory"}));
    root.appendChild(plots);
    document.getElementById("maps").appendChild(element("div", {id: "maps-plot"}));
    ["speed-slider", "angle-slider"].forEach(function (id) {
      document.getElementById(id).addEventListener("input", function (event) {
        var index = parseInt(event.target.value, 10);
        if (id === "speed-slider") state.i = index; else state.j = index;
        update();
      });
    });
  }

  // --- the curves, with their predictive bands, one panel per value of the second input ---
  function drawCurves() {
    var root = document.getElementById("curves");
    data.curves.forEach(function (group, g) {
      var id = "curves-" + g, traces = [];
      root.appendChild(element("div", {id: id}));
      traces.push({x: group.x, y: group["true"], name: "true", line: {color: "black", width: 3},
        hovertemplate: "%{y:.4g}<extra>true</extra>"});
      Object.keys(group.models).forEach(function (name) {
        var m = group.models[name];
        if (m.low) {
          traces.push({x: group.x.concat(group.x.slice().reverse()), y: m.high.concat(m.low.slice().reverse()),
            fill: "toself", fillcolor: colour(name), opacity: 0.15, line: {width: 0}, legendgroup: name,
            showlegend: false, hoverinfo: "skip", name: markup(name) + " 90 % band"});
        }
        traces.push({x: group.x, y: m.y, name: markup(name), legendgroup: name, line: {color: colour(name)},
          hovertemplate: "%{y:.4g}<extra>%{fullData.name}</extra>"});
      });
      var at = group.at === null ? "" : " at " + data.inputs[1] + " " + format(group.at) + unit(data.inputs[1]);
      var layout = {height: 380, margin: {t: 40}, hovermode: "x unified", title: {x: 0.01, xanchor: "left", text: markup(data.output + at)},
        xaxis: {title: {text: label(data.inputs[0])}}, yaxis: {title: {text: label(data.output)}},
        shapes: trainingBand()};
      Plotly.newPlot(id, traces, layout, CONFIG);
    });
  }

  function drawRmse() {
    var names = data.models.filter(function (name) { return data.rmse[name]; });
    var traces = ["interpolation", "extrapolation"].map(function (kind, k) {
      return {type: "bar", name: kind, x: names.map(markup), y: names.map(function (name) { return data.rmse[name][k]; }),
        meta: [markup(unit(data.output))], hovertemplate: "%{x}: %{y:.4g}%{meta[0]}<extra>%{fullData.name}</extra>"};
    });
    Plotly.newPlot("rmse", traces, {height: 380, margin: {t: 30}, barmode: "group",
      yaxis: {type: "log", title: {text: "RMSE" + markup(unit(data.output))}}}, CONFIG);
  }

  // --- line figures of the other scenarios' pages (interactive.lines_parts) ---
  function drawLines() {
    data.lines.forEach(function (figure, f) {
      var traces = figure.traces.map(function (trace) {
        return {x: trace.x, y: trace.y, name: markup(trace.name), mode: trace.joined === false ? "markers" : trace.markers ? "lines+markers" : "lines",
          line: {dash: trace.dash ? "dash" : "solid", width: trace.width || 2,
            color: typeof trace.colour === "number" ? COLOURS[trace.colour % COLOURS.length] : trace.colour || undefined},
          visible: trace.hidden ? "legendonly" : true, marker: {size: trace.joined === false ? 9 : 6},
          hovertemplate: "%{x:.4g}, %{y:.4g}<extra>%{fullData.name}</extra>"};
      });
      Plotly.newPlot("lines-" + f, traces, {height: 420, margin: {t: 50}, hovermode: "closest",
        title: {x: 0.01, xanchor: "left", text: markup(figure.title)},
        xaxis: {title: {text: markup(figure.x_label)}, type: figure.log_x ? "log" : "linear",
          dtick: figure.x_integers ? 1 : undefined},
        yaxis: {title: {text: markup(figure.y_label)}, type: figure.log_y ? "log" : "linear",
          scaleanchor: figure.equal ? "x" : undefined}}, CONFIG);
    });
  }

  try {
    if (data.grid) {
      drawExplorer();
      drawMaps();
      update();
      followLegend();
    }
    if (data.curves) drawCurves();
    if (data.rmse) drawRmse();
    if (data.lines) drawLines();
    document.body.setAttribute("data-hybridlab-ready", "yes");
  } catch (error) {
    window.hybridlabErrors.push(String(error && error.stack || error));
    throw error;
  }
})();

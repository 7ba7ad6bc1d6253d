"use strict";
// The page only draws and asks: every number on it comes from the Python package through /api.

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const SEND_SIZE = 112;   // the drawing goes to the server at 112×112 (as /openapi.json says): plenty for to_mnist
const THROTTLE_MS = 100; // at most ten predictions a second while drawing

let model = null;        // GET /api/model: sizes, accuracy, edits, strongest connections
let look = null;         // the latest prediction: input, every layer's a and z, answer
let source = "canvas";   // what the network is looking at: the canvas, or an example's 28×28 pixels
let selected = null;     // the clicked neuron, {layer, neuron}
let positions = [];      // [layer][i] = {x, y} of each drawn unit; layer 0 is the input grid

// ---- talking to the server ---------------------------------------------------------

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail
      : (data.detail || []).map((e) => e.msg).join("; ");
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

function say(text) { $("caption").textContent = text; }

// ---- drawing ----------------------------------------------------------------------------

const canvas = $("canvas");
const ctx = canvas.getContext("2d");
let tool = "pen";
let last = null;          // the previous pointer position while a stroke is going on

function clearCanvas() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

function point(e) {
  const r = canvas.getBoundingClientRect();
  return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
}

function stroke(from, to) {
  ctx.strokeStyle = tool === "pen" ? "#fff" : "#000";
  ctx.lineWidth = tool === "pen" ? 20 : 40;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
}

canvas.addEventListener("pointerdown", (e) => {
  canvas.setPointerCapture(e.pointerId);
  last = point(e);
  stroke(last, last);
  drawn();
});
canvas.addEventListener("pointermove", (e) => {
  if (!last) return;
  const p = point(e);
  stroke(last, p);
  last = p;
  drawn();
});
for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, () => { if (last) { last = null; drawn(); } });
}

function useTool(name) {
  tool = name;
  $("pen").classList.toggle("on", name === "pen");
  $("eraser").classList.toggle("on", name === "eraser");
}
$("pen").onclick = () => useTool("pen");
$("eraser").onclick = () => useTool("eraser");
$("clear").onclick = () => { clearCanvas(); drawn(); say("Draw with the mouse or a finger."); };

function canvasPixels() {
  const small = document.createElement("canvas");
  small.width = small.height = SEND_SIZE;
  const sctx = small.getContext("2d");
  sctx.imageSmoothingQuality = "high";
  sctx.drawImage(canvas, 0, 0, SEND_SIZE, SEND_SIZE);
  const rgba = sctx.getImageData(0, 0, SEND_SIZE, SEND_SIZE).data;
  const grey = new Array(SEND_SIZE * SEND_SIZE);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
  return grey;
}

// ---- predicting, at most every THROTTLE_MS and never two requests at once ---------

let timer = null, inFlight = false, again = false, lastSent = 0;

function drawn() {
  source = "canvas";
  if (timer) return;
  timer = setTimeout(() => { timer = null; refresh(); }, Math.max(0, THROTTLE_MS - (performance.now() - lastSent)));
}

function currentRequest() {
  // A drawing is centred and scaled by the server first; an example is already 28×28 and fed as it is.
  return source === "canvas" ? ["/api/predict", { pixels: canvasPixels() }] : ["/api/look", { pixels: source }];
}

async function refresh() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  lastSent = performance.now();
  try {
    const [path, body] = currentRequest();
    show(await api("POST", path, body));
  } catch (e) {
    say(e.message);
  } finally {
    inFlight = false;
    if (again) { again = false; refresh(); }
  }
}

function show(answer) {
  look = answer;
  drawInput(answer.input);
  drawActivations();
  drawAnswer();
  showNeuronNumbers();
}

// ---- experiments -----------------------------------------------------------------------

async function example(path, describe) {
  try {
    const answer = await api("GET", path);
    source = answer.input.map((v) => Math.round(v * 255));
    paintOnCanvas(answer.input);
    show(answer);
    say(describe(answer));
  } catch (e) {
    say(e.message);
  }
}

function percent(p, digits = 0) { return `${(100 * p).toFixed(digits)} %`; }

$("test-image").onclick = () => example("/api/examples/test", (a) =>
  `A test image labelled ${a.label}: the network says ${a.prediction}` +
  (a.prediction === a.label ? ", right." : `, wrong (${percent(a.probabilities[a.prediction])} sure).`));
$("noise").onclick = () => example(`/api/examples/noise?seed=${Math.floor(Math.random() * 1e9)}`, (a) =>
  `Pure noise, yet the network says ${a.prediction}, ${percent(a.probabilities[a.prediction])} sure.`);
$("dream").onclick = () => {
  const digit = $("dream-digit").value;
  example(`/api/examples/dream/${digit}?seed=${Math.floor(Math.random() * 1e6)}`, (a) =>
    `The image that makes the network shout "${digit}": it says ${a.prediction}, ` +
    `${percent(a.probabilities[a.prediction])} sure. Not much like a ${digit} to us.`);
};

function paintOnCanvas(input) {
  // Show the 28×28 image on the drawing canvas, so drawing on it carries on from there.
  const img = grey28(input);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
}

function grey28(values) {
  const c = document.createElement("canvas");
  c.width = c.height = 28;
  const c2 = c.getContext("2d");
  const image = c2.createImageData(28, 28);
  values.forEach((v, i) => {
    const g = Math.round(255 * Math.min(1, Math.max(0, v)));
    image.data.set([g, g, g, 255], 4 * i);
  });
  c2.putImageData(image, 0, 0);
  return c;
}

// ---- the network diagram ------------------------------------------------------------------

const net = $("net");
const H = 520, GRID = { x: 8, y: 110, cell: 10 };  // the SVG is 760 × 520

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function buildNet(sizes) {
  net.replaceChildren();
  el("g", { id: "links" }, net);
  el("image", { id: "input-image", x: GRID.x, y: GRID.y, width: 28 * GRID.cell, height: 28 * GRID.cell,
    preserveAspectRatio: "none", style: "image-rendering: pixelated" }, net);
  el("rect", { class: "input-frame", x: GRID.x, y: GRID.y, width: 28 * GRID.cell, height: 28 * GRID.cell }, net);
  el("text", { class: "caption-text", x: GRID.x + 14 * GRID.cell, y: GRID.y + 28 * GRID.cell + 24 }, net)
    .textContent = "what the network sees: 28×28";
  const inputs = [];
  for (let i = 0; i < 28 * 28; i++) {
    inputs.push({ x: GRID.x + (i % 28 + 0.5) * GRID.cell, y: GRID.y + (Math.floor(i / 28) + 0.5) * GRID.cell });
  }
  positions = [inputs];
  const layers = sizes.slice(1);
  const neurons = el("g", { id: "neurons" }, net);
  layers.forEach((n, l) => {
    const x = layers.length === 1 ? 690 : 380 + (310 * l) / (layers.length - 1);
    const spacing = Math.min(30, (H - 40) / n);
    const r = Math.max(2, Math.min(11, spacing * 0.38));
    const output = l === layers.length - 1;
    const column = [];
    for (let i = 0; i < n; i++) {
      const y = H / 2 + (i - (n - 1) / 2) * spacing;
      column.push({ x, y });
      if (output) {
        el("circle", { cx: x, cy: y, r, class: "neuron output", "data-layer": l, "data-neuron": i,
          fill: "#0b1626" }, neurons);
        el("text", { class: "label", x: x + r + 10, y, "data-digit": i }, net).textContent = i;
        continue;
      }
      // A wider invisible circle under each hidden neuron makes it easy to tap on a phone.
      const g = el("g", { class: "unit" }, neurons);
      el("circle", { cx: x, cy: y, r: Math.max(r, spacing / 2), class: "hit" }, g);
      el("circle", { cx: x, cy: y, r, class: "neuron hidden", "data-layer": l, "data-neuron": i,
        fill: "#0b1626" }, g);
      el("title", {}, g).textContent = `hidden layer ${l}, neuron ${i}`;
      g.addEventListener("click", () => selectNeuron(l, i));
    }
    positions.push(column);
  });
}

function drawLinks() {
  const g = $("links");
  g.replaceChildren();
  model.connections.forEach((layer, l) => {
    const strongest = Math.max(1e-9, ...layer.map((c) => Math.abs(c[2])));
    for (const [from, to, w] of layer) {
      const a = positions[l][from], b = positions[l + 1][to];
      el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: w > 0 ? "#4aa3ff" : "#ff5d5d",
        "stroke-opacity": (0.06 + 0.6 * Math.abs(w) / strongest).toFixed(3), "stroke-width": 1 }, g);
    }
  });
}

function drawInput(values) {
  $("input-image").setAttribute("href", grey28(values).toDataURL());
}

function brightness(a, layer) {
  // ReLU activations have no upper limit: scale each layer by its largest, so the brightest is white.
  const scale = Math.max(1, ...layer);
  return Math.min(1, Math.max(0, a / scale));
}

function shade(v) {
  const from = [11, 22, 38];
  return `rgb(${from.map((c) => Math.round(c + (255 - c) * v)).join(",")})`;
}

function drawActivations() {
  if (!look || !model) return;
  look.layers.forEach((layer, l) => {
    const output = l === look.layers.length - 1;
    layer.forEach((a, i) => {
      const c = net.querySelector(`circle.neuron[data-layer="${l}"][data-neuron="${i}"]`);
      if (!c) return;
      c.setAttribute("fill", shade(brightness(a, layer)));
      if (output) c.classList.toggle("best", i === look.prediction && !isBlank(look));
    });
  });
  net.querySelectorAll(".label").forEach((t) =>
    t.classList.toggle("best", +t.dataset.digit === look.prediction && !isBlank(look)));
}

function markNeurons() {
  net.querySelectorAll("circle.hidden").forEach((c) => {
    const edit = model.edits.find((e) => e.layer === +c.dataset.layer && e.neuron === +c.dataset.neuron);
    c.classList.toggle("edited", !!edit && !edit.off);
    c.classList.toggle("off", !!edit && edit.off);
    c.classList.toggle("selected", !!selected && selected.layer === +c.dataset.layer &&
      selected.neuron === +c.dataset.neuron);
  });
}

async function loadModel() {
  const fresh = await api("GET", "/api/model");
  const reshaped = !model || fresh.sizes.join() !== model.sizes.join();
  model = fresh;
  if (reshaped) {
    buildNet(model.sizes);
    selected = null;
    $("neuron-body").hidden = true;
    $("neuron-hint").hidden = false;
    $("neuron-title").textContent = "Inside a neuron";
  }
  drawLinks();
  markNeurons();
  drawActivations();
  $("shape").textContent = `the ${model.sizes.join("-")} ${model.activation} network`;
  showAccuracy(model.test_accuracy);
  for (const id of ["test-image", "start", "step"]) $(id).disabled = !model.has_data;
  if (!model.has_data) $("train-status").textContent = "No MNIST data on the server: start it with --data DIR to train.";
}

function showAccuracy(p) { $("accuracy").textContent = p === null ? "–" : percent(p, 2); }

// ---- the answer ------------------------------------------------------------------------

function buildBars() {
  const bars = $("bars");
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.digit = d;
    row.innerHTML = `<span>${d}</span><span class="track"><span class="fill"></span></span><span class="pct"></span>`;
    bars.appendChild(row);
  }
}

function isBlank(answer) { return answer.input.every((v) => v === 0); }

function drawAnswer() {
  const p = look.probabilities;
  const blank = isBlank(look);
  $("digit").textContent = blank ? "?" : look.prediction;
  $("confidence").textContent = blank ? "draw a digit" : `${percent(p[look.prediction])} sure`;
  document.querySelectorAll(".bar").forEach((row, d) => {
    row.querySelector(".fill").style.width = percent(p[d] || 0, 1).replace(" ", "");
    row.querySelector(".pct").textContent = percent(p[d] || 0);
    row.classList.toggle("best", d === look.prediction && !blank);
  });
}

// ---- one neuron: look and tweak -----------------------------------------------------------

async function selectNeuron(layer, neuron) {
  selected = { layer, neuron };
  markNeurons();
  try {
    showNeuron(await api("GET", `/api/neurons/${layer}/${neuron}`));
  } catch (e) {
    say(e.message);
  }
}

function showNeuron(info) {
  $("neuron-hint").hidden = true;
  $("neuron-body").hidden = false;
  $("neuron-title").textContent = `Hidden layer ${info.layer}, neuron ${info.neuron}`;
  drawPattern(info.pattern);
  $("pattern-caption").textContent = info.layer === 0
    ? "Its 784 incoming weights: blue pixels with ink push it up, red ones hold it down."
    : "What it responds to in the image: the layers before it multiplied through (σ and biases left out).";
  $("bias-shift").value = info.bias_shift;
  $("weight-scale").value = info.weight_scale;
  $("off").checked = info.off;
  $("bias-out").textContent = info.bias_shift.toFixed(1);
  $("scale-out").textContent = info.weight_scale.toFixed(2);
  $("n-bias").textContent = info.bias.toFixed(3);
  showNeuronNumbers();
  if (info.test_accuracy !== null) showAccuracy(info.test_accuracy);
}

function showNeuronNumbers() {
  if (!selected || !look || !look.zs[selected.layer]) return;
  $("n-z").textContent = look.zs[selected.layer][selected.neuron].toFixed(3);
  $("n-a").textContent = look.layers[selected.layer][selected.neuron].toFixed(3);
}

function drawPattern(pattern) {
  const c = $("pattern"), c2 = c.getContext("2d");
  const image = c2.createImageData(28, 28);
  const scale = Math.max(1e-9, ...pattern.map(Math.abs));
  const blue = [74, 163, 255], red = [255, 93, 93], dark = [11, 22, 38];
  pattern.forEach((w, i) => {
    const t = Math.min(1, Math.abs(w) / scale), hue = w > 0 ? blue : red;
    image.data.set([...dark.map((d, k) => Math.round(d + (hue[k] - d) * t)), 255], 4 * i);
  });
  c2.putImageData(image, 0, 0);
}

let editTimer = null;
function edited() {
  $("bias-out").textContent = (+$("bias-shift").value).toFixed(1);
  $("scale-out").textContent = (+$("weight-scale").value).toFixed(2);
  clearTimeout(editTimer);
  editTimer = setTimeout(sendEdit, 80);
}

async function sendEdit() {
  if (!selected) return;
  const { layer, neuron } = selected;
  try {
    const info = await api("PUT", `/api/neurons/${layer}/${neuron}`, {
      bias_shift: +$("bias-shift").value, weight_scale: +$("weight-scale").value, off: $("off").checked });
    showNeuron(info);
    await loadModel();
    refresh();
  } catch (e) {
    say(e.message);
  }
}

$("bias-shift").addEventListener("input", edited);
$("weight-scale").addEventListener("input", edited);
$("off").addEventListener("change", edited);
$("reset").onclick = async () => {
  try {
    await api("POST", "/api/reset");
    await loadModel();
    if (selected) await selectNeuron(selected.layer, selected.neuron);
    refresh();
  } catch (e) {
    say(e.message);
  }
};

// ---- training -------------------------------------------------------------------------------

let events = null, training = { state: "idle", history: [], epochs: 0 }, epochsShown = -1;

function trainOptions() {
  const f = $("train-form").elements;
  return {
    hidden: f.hidden.value.split(",").map((s) => parseInt(s, 10)),
    activation: f.activation.value, cost: f.cost.value, optimizer: f.optimizer.value,
    lr: parseFloat(f.lr.value), batch_size: parseInt(f.batch_size.value, 10),
    epochs: parseInt(f.epochs.value, 10), images: parseInt(f.images.value, 10),
  };
}

function listen() {
  if (events) events.close();
  events = new EventSource("/api/train/events");
  events.onmessage = (e) => showTraining(JSON.parse(e.data));
  // The stream ends when training stops running (or after a minute); rather than let the
  // browser reconnect on its own, listen again only while there is more to hear.
  events.onerror = () => {
    events.close();
    events = null;
    if (training.state === "running" || training.busy) setTimeout(listen, 500);
  };
}

async function control(action, body) {
  try {
    showTraining(await api("POST", `/api/train${action}`, body));
    listen();
  } catch (e) {
    $("train-status").textContent = e.message;
  }
}

$("start").onclick = () => control("", trainOptions());
$("pause").onclick = () => control(training.state === "paused" ? "/resume" : "/pause");
$("step").onclick = async () => {
  if (training.state !== "paused") {
    try {
      showTraining(await api("POST", "/api/train", { ...trainOptions(), paused: true }));
    } catch (e) {
      $("train-status").textContent = e.message;
      return;
    }
  }
  control("/step");
};
$("save").onclick = async () => {
  try {
    const saved = await api("POST", "/api/save");
    $("train-status").textContent = `Saved the network as it is now to ${saved.path}.`;
  } catch (e) {
    $("train-status").textContent = e.message;
  }
};

async function showTraining(status) {
  training = status;
  const running = status.state === "running";
  $("pause").textContent = status.state === "paused" ? "Resume" : "Pause";
  $("pause").disabled = !running && status.state !== "paused";
  const h = status.history, last = h[h.length - 1];
  const words = { idle: "Not training.", running: "Training…", paused: "Paused.", done: "Done.", error: "Stopped:" };
  $("train-status").textContent = [words[status.state], status.message,
    last ? `epoch ${last.epoch}/${status.epochs}, cost ${last.cost.toFixed(4)}, ` +
      `train ${percent(last.train_accuracy, 1)}, test ${percent(last.test_accuracy, 1)}` : ""]
    .filter(Boolean).join(" ");
  drawChart(status);
  if (h.length !== epochsShown) {
    const fresh = epochsShown !== -1;
    epochsShown = h.length;
    if (fresh && h.length) { // the page now uses the newly trained network, with no hand edits
      await loadModel();
      refresh();
      if (selected) selectNeuron(selected.layer, selected.neuron);
    }
  }
}

function drawChart(status) {
  // Draw at the canvas's on-screen size, so the text stays sharp and small at any width.
  const c = $("chart"), g = c.getContext("2d"), dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || 600, h = c.clientHeight || 200, pad = { l: 48, r: 48, t: 24, b: 26 };
  c.width = Math.round(w * dpr);
  c.height = Math.round(h * dpr);
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#8ea3bf";
  const hist = status.history, n = Math.max(status.epochs, hist.length, 1);
  const maxCost = Math.max(1e-9, ...hist.map((r) => r.cost));
  const x = (e) => pad.l + (w - pad.l - pad.r) * (n === 1 ? 0.5 : (e - 1) / (n - 1));
  const y = (v) => h - pad.b - (h - pad.t - pad.b) * v;
  g.strokeStyle = "#22385a";
  g.beginPath();
  g.moveTo(pad.l, pad.t); g.lineTo(pad.l, h - pad.b); g.lineTo(w - pad.r, h - pad.b); g.lineTo(w - pad.r, pad.t);
  g.stroke();
  g.textAlign = "center";
  g.fillText(`epoch (of ${status.epochs || "–"})`, w / 2, h - 6);
  if (!hist.length) g.fillText("the cost and accuracy of each epoch appear here", w / 2, h / 2);
  g.textAlign = "right";
  if (hist.length) { g.fillText(maxCost.toPrecision(3), pad.l - 6, pad.t + 4); g.fillText("0", pad.l - 6, h - pad.b); }
  g.textAlign = "left"; g.fillText("100 %", w - pad.r + 6, pad.t + 4); g.fillText("0 %", w - pad.r + 6, h - pad.b);
  const series = [
    ["cost", "#4aa3ff", (r) => r.cost / maxCost],
    ["train accuracy", "#8ea3bf", (r) => r.train_accuracy],
    ["test accuracy", "#ffd166", (r) => r.test_accuracy],
  ];
  let legendX = pad.l + 10;
  series.forEach(([name, colour, value]) => {
    g.strokeStyle = g.fillStyle = colour;
    g.lineWidth = 2;
    g.beginPath();
    hist.forEach((r, i) => (i ? g.lineTo : g.moveTo).call(g, x(r.epoch), y(value(r))));
    g.stroke();
    hist.forEach((r) => { g.beginPath(); g.arc(x(r.epoch), y(value(r)), 3, 0, 2 * Math.PI); g.fill(); });
    g.fillText(name, legendX, 14);
    legendX += g.measureText(name).width + 18;
  });
  c.dataset.points = hist.length; // for tests and curious people: how many epochs are drawn
}

window.addEventListener("resize", () => drawChart(training));

// ---- start -------------------------------------------------------------------------------------

async function start() {
  buildBars();
  clearCanvas();
  try {
    await loadModel();
    await refresh();
    const status = await api("GET", "/api/train");
    epochsShown = status.history.length;
    showTraining(status);
    if (status.state === "running" || status.busy) listen();
  } catch (e) {
    say(`Cannot reach the server: ${e.message}`);
  }
}

start();

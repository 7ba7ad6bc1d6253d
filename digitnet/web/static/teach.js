// "Teach it": one step of gradient descent on the example the network is looking at, as the
// digit the learner chose, with a learning rate; before and after side by side; the nudges
// the step made; Undo, Reset; and a step on each of a hundred random training images.

import { $, api, cost, percent } from "./api.js";
import { onLabel } from "./cost.js";
import { canvasBytes } from "./drawing.js";
import { onModel, onReshape } from "./model.js";
import { changed } from "./neuron.js";
import { onLook } from "./predict.js";
import { curve, frame, scale, setUpPlot, signedTile } from "./plots.js";
import { named, notADigit, side, state, tag } from "./state.js";

let costShown = null;  // the rate starts at the network's teaching rate, and again when its cost changes

function rate() { return 10 ** +$("lr").value; }

function showRate() { $("lr-out").textContent = `${+rate().toPrecision(2)}`; }

function say(text) { $("teach-status").textContent = text; }

// What the network is looking at, as the API takes it: the drawing, a test image by its index, or an image.
function lesson() {
  const asked = { label: state.label, lr: rate() };
  if (state.source === "canvas") return ["/api/teach", { ...asked, pixels: Array.from(canvasBytes()) }];
  if (state.testIndex !== null) return ["/api/teach/test", { ...asked, index: state.testIndex }];
  return ["/api/teach/image", { ...asked, pixels: state.source }];
}

async function act(work) {
  for (const id of ["teach", "undo", "start-over", "batch"]) $(id).disabled = true;
  try {
    await work();
    await changed();
  } catch (e) {
    say(e.message);
  } finally {
    labelButton();
    showModel(state.model);
  }
}

function teach() {
  return act(async () => {
    const [path, body] = lesson();
    const step = await api("POST", path, body);
    state.step = step;
    showStep(step);
    const { before, after } = step, went = `this example's cost went from ${cost(before.cost)} to ${cost(after.cost)}`;
    say(after.prediction !== before.prediction
      ? `It changed its mind: it now says ${after.prediction}; ${went}.`
      : `One step downhill: ${went}; it still says ${after.prediction}.`);
  });
}

function undo(action, words) {
  return act(async () => {
    await api("POST", `/api/teach/${action}`);
    forgetStep();
    say(words);
  });
}

function batch() {
  return act(async () => {
    const taught = await api("POST", "/api/teach/batch", { lr: rate() });
    forgetStep();
    drawBatch(taught.costs);
    const { before, after } = taught;
    say(`${taught.costs.length} steps, one on each of ${taught.costs.length} random training images: test accuracy ` +
      `${accuracy(before.test_accuracy)} → ${accuracy(after.test_accuracy)}, average cost ` +
      `${cost(before.average_cost)} → ${cost(after.average_cost)}.`);
  });
}

const accuracy = (p) => (p === null ? "–" : percent(p, 2));

function forgetStep() {
  state.step = null;
  $("step-result").hidden = $("nudges-body").hidden = true;
  $("no-step").hidden = false;
  $("batch-chart").hidden = true;
}

function labelButton() {
  const b = $("teach"), look = state.look;
  const itsOwn = state.testIndex !== null && look && look.label === state.label;
  b.textContent = state.label === null ? "Pick the digit it should be"
    : `This is ${notADigit(state.label) ? "not a digit" : `a ${named(state.label)}`}${itsOwn ? " (its label)" : ""}`;
  b.disabled = state.label === null || !state.model;
}

function showModel(model) {
  if (!model) return;
  if (model.cost !== costShown) {  // a network with another cost wants another rate
    costShown = model.cost;
    $("lr").value = Math.log10(model.teaching_rate);
    showRate();
  }
  $("undo").disabled = model.undo_steps === 0;
  $("start-over").disabled = !model.taught;
  $("batch").disabled = !model.has_data;
  $("undo").title = `${model.undo_steps} step${model.undo_steps === 1 ? "" : "s"} to undo`;
}

// ---- what the step did --------------------------------------------------------------------------

function showStep(step) {
  $("step-result").hidden = $("nudges-body").hidden = false;
  $("no-step").hidden = true;
  $("batch-chart").hidden = true;
  for (const td of $("before-after").querySelectorAll("td")) {
    const s = step[td.dataset.side], is = td.dataset.is;
    td.textContent = is === "answer" ? `${named(s.prediction)} (${percent(s.probabilities[s.prediction])})`
      : is === "test_accuracy" ? accuracy(s.test_accuracy) : cost(s[is]);
  }
  drawOutputs(step);
  drawNudges(step.nudges);
  drawTiles(step.first_layer);
  drawShares(step.layer_shares);
}

function drawOutputs({ before, after }) {
  const rows = before.outputs.map((_, d) => {
    const row = document.createElement("div");
    row.className = "pair";
    row.classList.toggle("right", d === before.label);
    row.innerHTML = `<span>${tag(d)}</span>` + [before, after].map((s) =>
      `<span class="track"><span class="fill" style="width:${(100 * s.outputs[d]).toFixed(1)}%"></span></span>`)
      .join("");
    return row;
  });
  const head = document.createElement("div");
  head.className = "pair";
  head.innerHTML = "<span></span><span>outputs before</span><span>after</span>";
  $("outputs-before-after").replaceChildren(head, ...rows);
}

function drawNudges(nudges) {
  $("nudges").replaceChildren(...nudges.map((n) => {
    const li = document.createElement("li");
    li.innerHTML = `<span>${n.name}</span><span class="${n.change > 0 ? "plus" : "minus"}">` +
      `${n.change > 0 ? "+" : "−"}${Math.abs(n.change).toExponential(2)}</span>`;
    return li;
  }));
}

function drawTiles({ tiles }) {
  // −∂C/∂W of each first-layer neuron, all on one scale: blue where the step raises a weight, red where it lowers it.
  $("tiles").replaceChildren(...tiles.map((tile, i) => {
    const c = signedTile(document.createElement("canvas"), tile, side());
    c.title = `layer 1, neuron ${i}`;
    return c;
  }));
}

function drawShares(shares) {
  const sizes = state.model.sizes;
  $("shares").replaceChildren(...shares.map((share, l) => {
    const row = document.createElement("div");
    row.className = "share";
    row.innerHTML = `<span>layer ${l + 1} <small>(${sizes[l]}→${sizes[l + 1]})</small></span>` +
      `<span class="track"><span class="fill" style="width:${(100 * share).toFixed(1)}%"></span></span>` +
      `<span class="pct">${percent(share)}</span>`;
    return row;
  }));
}

function drawBatch(costs) {
  const c = $("batch-chart");
  c.hidden = false;
  const { g, w, h } = setUpPlot(c);
  const box = { x: 44, y: 18, w: w - 56, h: h - 40 };
  const shown = costs.map((v, i) => [i + 1, v]).filter(([, v]) => v !== null);
  const x = scale(1, costs.length, box.x, box.x + box.w);
  const y = scale(0, Math.max(1e-9, ...shown.map(([, v]) => v)), box.y + box.h, box.y);
  frame(g, box, { title: "each example's cost, just before its step", x: "step", top: y.hi.toPrecision(3),
    bottom: "0" });
  curve(g, shown.map(([i, v]) => [x(i), y(v)]), "plus", { dots: true });
}

// The learning rate's range and the batch's size, as the API states them.
export function fillTeaching(options) {
  const [low, high] = options.learning_rates;
  Object.assign($("lr"), { min: Math.log10(low), max: Math.log10(high) });
  $("batch").textContent = `Take ${options.batch} steps on ${options.batch} random training images`;
  costShown = null;  // the slider's value again, now that its range is known
  showModel(state.model);
}

export function setUpTeaching() {
  $("lr").addEventListener("input", showRate);
  $("teach").onclick = teach;
  $("undo").onclick = () => undo("undo", "Undone: the network is back where it was before that step.");
  $("start-over").onclick = () => undo("reset", "Reset: the network is back where it was before it was taught.");
  $("batch").onclick = batch;
  onModel(showModel);
  onReshape(forgetStep);  // a new network: the last step was another's
  onLabel(labelButton);
  onLook(labelButton);
}

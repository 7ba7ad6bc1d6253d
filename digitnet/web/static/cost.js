// The cost of one example, laid out as in the video: the outputs beside the desired outputs,
// each output's part, their sum; and the network's cost, the average over the test images.
// The learner says which digit it should be; every number comes with the prediction.

import { $, cost } from "./api.js";
import { onModel, onReshape } from "./model.js";
import { onLook, refresh } from "./predict.js";
import { state, tag } from "./state.js";

const picked = [];  // what changes with the digit chosen

export function onLabel(redraw) { picked.push(redraw); }

// Say which digit this should be (null: none), and ask for the cost as that digit.
export function chooseLabel(label) {
  state.label = label;
  picked.forEach((redraw) => redraw());
  if (label !== null) refresh();
  else drawCost();
}

function markLabel() {
  $("labels").querySelectorAll("button").forEach((b) => b.classList.toggle("on", +b.dataset.digit === state.label));
}

function buildLabels(outputs) {
  $("labels").replaceChildren(...Array.from({ length: outputs }, (_, d) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.digit = d;
    b.textContent = tag(d);
    b.onclick = () => chooseLabel(d);
    return b;
  }));
  markLabel();
}

const number = (v) => cost(v, 4);  // four decimals: an output near 0 or 1 still shows a change

function drawCost() {
  markLabel();  // a test image brings its own label
  const laid = state.look && state.look.cost_of_one;
  const rows = $("cost-table").tBodies[0];
  const quadratic = !state.model || state.model.cost === "quadratic";
  $("term-head").textContent = quadratic ? "(a − y)²" : "−ln a";
  $("cost-table").classList.toggle("empty", !laid);
  if (!laid) {
    rows.replaceChildren();
    $("cost-sum").textContent = "Pick the digit it should be: its cost appears here, and changes as you draw.";
    return;
  }
  rows.replaceChildren(...laid.outputs.map((a, d) => {
    const row = rows.insertRow();
    row.classList.toggle("right", d === laid.label);
    // Quadratic: each output's squared difference (their sum, halved, is the cost); cross-entropy: −ln a of the right digit.
    const part = quadratic ? number(laid.squared_differences[d]) : d === laid.label ? number(laid.terms[d]) : "";
    row.innerHTML = `<td>${tag(d)}</td><td><span class="meter" style="--v:${a.toFixed(3)}"></span>${number(a)}</td>` +
      `<td>${laid.desired[d]}</td><td>${part}</td>`;
    return row;
  }));
  $("cost-sum").innerHTML = quadratic
    ? `sum of the squares ${number(laid.sum_of_squares)}: the cost C = ½ × sum = <strong>${number(laid.cost)}</strong>`
    : `the cost C = −ln a<sub>${laid.label}</sub> = <strong>${number(laid.cost)}</strong>`;
}

function drawAverage(model) {
  const quadratic = model.cost === "quadratic";
  $("average-cost").textContent = model.average_cost === null && model.has_data
    ? "The network's cost, averaged over the test images, is infinite: some image's right digit gets probability 0."
    : model.has_data ? `The network's cost, its average over the ${model.test_images.toLocaleString("en")} test ` +
      `images: ${number(model.average_cost)}.` : "";
  $("cost-explain").textContent = quadratic
    ? "How bad is this answer? Set the ten outputs beside what they should be: 1 for the right digit, 0 for the " +
      "rest. Square each difference and add them up (halved here, so that the slope is simply a − y): small when " +
      "the network is confidently right, large when it is confidently wrong. The network's cost is that, averaged " +
      "over all the examples."
    : "How bad is this answer? Set the ten outputs beside what they should be: 1 for the right digit, 0 for the " +
      "rest. This network's cost is cross-entropy: −ln of the output the right digit gets, 0 when it is sure and " +
      "right, growing without end as that output goes to 0. The network's cost is that, averaged over all the examples.";
  drawCost();
}

export function setUpCost() {
  onReshape(() => buildLabels(state.model.sizes[state.model.sizes.length - 1]));
  onModel(drawAverage);
  onLook(drawCost);
}

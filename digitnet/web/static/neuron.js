// One hidden neuron: what it looks for, its numbers for the current image, and changing it.

import { showAccuracy } from "./answer.js";
import { $, api, say } from "./api.js";
import { markNeurons } from "./diagram.js";
import { loadModel, onReshape } from "./model.js";
import { signedTile } from "./plots.js";
import { onLook, refresh } from "./predict.js";
import { side, state } from "./state.js";

export async function selectNeuron(layer, neuron) {
  state.selected = { layer, neuron };
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
    ? `Its ${info.pattern.length} incoming weights: blue pixels with ink push it up, red ones hold it down.`
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
  const { look, selected } = state;
  if (!selected || !look || !look.zs[selected.layer]) return;
  $("n-z").textContent = look.zs[selected.layer][selected.neuron].toFixed(3);
  $("n-a").textContent = look.layers[selected.layer][selected.neuron].toFixed(3);
}

function drawPattern(pattern) {
  signedTile($("pattern"), pattern, side(), Math.max(1e-9, ...pattern.map(Math.abs)));
}

let editTimer = null;
function edited() {
  $("bias-out").textContent = (+$("bias-shift").value).toFixed(1);
  $("scale-out").textContent = (+$("weight-scale").value).toFixed(2);
  clearTimeout(editTimer);
  editTimer = setTimeout(sendEdit, 80);
}

async function sendEdit() {
  if (!state.selected) return;
  const { layer, neuron } = state.selected;
  try {
    const info = await api("PUT", `/api/neurons/${layer}/${neuron}`, {
      bias_shift: +$("bias-shift").value, weight_scale: +$("weight-scale").value, off: $("off").checked });
    showNeuron(info);
    await loadModel(selectNeuron);
    refresh();
  } catch (e) {
    say(e.message);
  }
}

// After the network changed (a reset, a teaching step, an epoch): the page's network, its answer
// and the chosen neuron anew.
export async function changed() {
  await loadModel(selectNeuron);
  if (state.selected) await selectNeuron(state.selected.layer, state.selected.neuron);  // its sliders first
  await refresh();
}

export function setUpNeuronPanel() {
  $("bias-shift").addEventListener("input", edited);
  $("weight-scale").addEventListener("input", edited);
  $("off").addEventListener("change", edited);
  $("reset").onclick = async () => {
    try {
      await api("POST", "/api/reset");
      await changed();
    } catch (e) {
      say(e.message);
    }
  };
  onLook(showNeuronNumbers);
  onReshape(() => {  // a new network: its neurons are not the ones shown
    state.selected = null;
    $("neuron-body").hidden = true;
    $("neuron-hint").hidden = false;
    $("neuron-title").textContent = "Inside a neuron";
  });
}

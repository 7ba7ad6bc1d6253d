// The visitor's network as the server describes it: shape, accuracy, edits, strongest connections.

import { buildBars, showAccuracy } from "./answer.js";
import { $, api } from "./api.js";
import { buildNet, captionInput, drawActivations, drawLinks, markNeurons } from "./diagram.js";
import { showEditing } from "./session.js";
import { state } from "./state.js";

const reshaped = [];  // what starts afresh when the network changes shape
const described = [];  // what redraws with each new description of the network

export function onReshape(startAfresh) { reshaped.push(startAfresh); }
export function onModel(redraw) { described.push(redraw); }

// ``select(layer, neuron)`` is what clicking a hidden neuron does.
export async function loadModel(select) {
  const fresh = await api("GET", "/api/model");
  const newShape = !state.model || fresh.sizes.join() !== state.model.sizes.join();
  state.model = fresh;
  document.body.classList.toggle("not-a-digit", Boolean(fresh.not_a_digit));  // its labels need room
  if (newShape) {
    buildNet(fresh.sizes, select);
    buildBars(fresh.sizes[fresh.sizes.length - 1]);
    reshaped.forEach((startAfresh) => startAfresh());
  }
  captionInput(Boolean(fresh.deskew));
  drawLinks();
  markNeurons();
  drawActivations();
  $("shape").textContent = `the ${fresh.sizes.join("-")} ${fresh.activation} network`;
  showAccuracy(fresh.test_accuracy);
  showEditing(fresh);
  for (const id of ["test-image", "start", "step"]) $(id).disabled = !fresh.has_data;
  if (!fresh.has_data) $("train-status").textContent = "No MNIST data on the server: start it with --data DIR to train.";
  described.forEach((redraw) => redraw(fresh));
}

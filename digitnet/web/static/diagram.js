// The network diagram: the input image, the neurons lit by their activation, the strongest weights.

import { $, greyPicture, isBlank } from "./api.js";
import { colour, mix, rgb } from "./colours.js";
import { notADigit, side, state, tag } from "./state.js";

const SVG = "http://www.w3.org/2000/svg";
const net = $("net");
const H = 520, GRID = { x: 8, y: 110, width: 280 };  // the SVG is 760 × 520

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// ``select(layer, neuron)`` is called when a hidden neuron is clicked.
export function buildNet(sizes, select) {
  const n = side(), cell = GRID.width / n, unlit = shade(0);
  net.replaceChildren();
  el("g", { id: "links" }, net);
  el("image", { id: "input-image", x: GRID.x, y: GRID.y, width: GRID.width, height: GRID.width,
    preserveAspectRatio: "none", style: "image-rendering: pixelated" }, net);
  el("rect", { class: "input-frame", x: GRID.x, y: GRID.y, width: GRID.width, height: GRID.width }, net);
  el("text", { id: "input-caption", class: "caption-text", x: GRID.x + GRID.width / 2, y: GRID.y + GRID.width + 24 },
    net);
  captionInput(false);
  const inputs = [];
  for (let i = 0; i < n * n; i++) {
    inputs.push({ x: GRID.x + (i % n + 0.5) * cell, y: GRID.y + (Math.floor(i / n) + 0.5) * cell });
  }
  state.positions = [inputs];
  const layers = sizes.slice(1);
  const neurons = el("g", { id: "neurons" }, net);
  layers.forEach((count, l) => {
    const x = layers.length === 1 ? 690 : 380 + (310 * l) / (layers.length - 1);
    const spacing = Math.min(30, (H - 40) / count);
    const r = Math.max(2, Math.min(11, spacing * 0.38));
    const output = l === layers.length - 1;
    const column = [];
    for (let i = 0; i < count; i++) {
      const y = H / 2 + (i - (count - 1) / 2) * spacing;
      column.push({ x, y });
      if (output) {
        el("circle", { cx: x, cy: y, r, class: "neuron output", "data-layer": l, "data-neuron": i, fill: unlit },
          neurons);
        el("text", { class: notADigit(i) ? "label word" : "label", x: x + r + 10, y, "data-digit": i }, net).textContent = tag(i);
        continue;
      }
      // A wider invisible circle under each hidden neuron makes it easy to tap on a phone.
      const g = el("g", { class: "unit" }, neurons);
      el("circle", { cx: x, cy: y, r: Math.max(r, spacing / 2), class: "hit" }, g);
      el("circle", { cx: x, cy: y, r, class: "neuron hidden", "data-layer": l, "data-neuron": i, fill: unlit }, g);
      el("title", {}, g).textContent = `hidden layer ${l}, neuron ${i}`;
      g.addEventListener("click", () => select(l, i));
    }
    state.positions.push(column);
  });
}

export function drawLinks() {
  const g = $("links"), plus = colour("plus"), minus = colour("minus");
  g.replaceChildren();
  state.model.connections.forEach((layer, l) => {
    const strongest = Math.max(1e-9, ...layer.map((c) => Math.abs(c[2])));
    for (const [from, to, w] of layer) {
      const a = state.positions[l][from], b = state.positions[l + 1][to];
      el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: w > 0 ? plus : minus,
        "stroke-opacity": (0.06 + 0.6 * Math.abs(w) / strongest).toFixed(3), "stroke-width": 1 }, g);
    }
  });
}

// The caption under the input: what the network sees, deskewed (sheared upright) for a network that deskews.
export function captionInput(deskew) {
  const n = side();
  document.getElementById("input-caption").textContent = `what the network sees: ${n}×${n}${deskew ? ", deskewed" : ""}`;
}

export function drawInput(values) {
  $("input-image").setAttribute("href", greyPicture(values, side()).toDataURL());
}

function brightness(a, layer) {
  // ReLU activations have no upper limit: scale each layer by its largest, so the brightest is white.
  const scale = Math.max(1, ...layer);
  return Math.min(1, Math.max(0, a / scale));
}

// An unlit neuron has the page's background colour; a fully lit one is --lit (white).
function shade(v) { return mix(rgb("bg"), rgb("lit"), v); }

export function drawActivations() {
  const look = state.look;
  if (!look || !state.model) return;
  const blank = isBlank(look);
  look.layers.forEach((layer, l) => {
    const output = l === look.layers.length - 1;
    layer.forEach((a, i) => {
      const c = net.querySelector(`circle.neuron[data-layer="${l}"][data-neuron="${i}"]`);
      if (!c) return;
      c.setAttribute("fill", shade(brightness(a, layer)));
      if (output) c.classList.toggle("best", i === look.prediction && !blank);
    });
  });
  net.querySelectorAll(".label").forEach((t) =>
    t.classList.toggle("best", +t.dataset.digit === look.prediction && !blank));
}

export function markNeurons() {
  const { model, selected } = state;
  net.querySelectorAll("circle.hidden").forEach((c) => {
    const edit = model.edits.find((e) => e.layer === +c.dataset.layer && e.neuron === +c.dataset.neuron);
    c.classList.toggle("edited", !!edit && !edit.off);
    c.classList.toggle("off", !!edit && edit.off);
    c.classList.toggle("selected", !!selected && selected.layer === +c.dataset.layer &&
      selected.neuron === +c.dataset.neuron);
  });
}

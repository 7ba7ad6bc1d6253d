// Small plots on canvases, drawn at their size on the screen so that lines and text stay sharp.

import { blend, colour, rgb } from "./colours.js";

// The canvas made ready to draw on at its on-screen size: its context, width and height.
export function setUpPlot(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = "12px system-ui, sans-serif";
  return { g, w, h };
}

// Side by side: ``n`` boxes across a canvas of width w and height h, with room for the labels.
export function boxes(n, w, h, pad = { l: 52, r: 14, t: 22, b: 30 }) {
  const each = w / n;
  return Array.from({ length: n }, (_, k) => ({
    x: k * each + pad.l, y: pad.t, w: each - pad.l - pad.r, h: h - pad.t - pad.b }));
}

// The map from [lo, hi] to pixels [a, b], on a log scale if asked; it keeps lo and hi for the axis's labels.
export function scale(lo, hi, a, b, log = false) {
  const f = log ? Math.log10 : (v) => v;
  const [l, u] = [f(lo), f(hi)];
  const to = (v) => a + (b - a) * (u === l ? 0.5 : (f(v) - l) / (u - l));
  return Object.assign(to, { lo, hi });
}

// The box's frame, its title above, the x axis's name below, and the y axis's two ends (strings) on the left.
export function frame(g, box, { title = "", x = "", top = "", bottom = "" }) {
  g.strokeStyle = colour("line");
  g.lineWidth = 1;
  g.setLineDash([]);
  g.strokeRect(box.x, box.y, box.w, box.h);
  g.fillStyle = colour("dim");
  g.textAlign = "center";
  g.fillText(title, box.x + box.w / 2, box.y - 7);
  g.fillText(x, box.x + box.w / 2, box.y + box.h + 18);
  g.textAlign = "right";
  g.fillText(top, box.x - 6, box.y + 10);
  g.fillText(bottom, box.x - 6, box.y + box.h);
}

// A line through ``points`` ([x, y] in pixels) in the colour named (a CSS variable).
export function curve(g, points, name, { dashed = false, dots = false, width = 2, alpha = 1 } = {}) {
  g.save();
  g.globalAlpha = alpha;
  g.strokeStyle = g.fillStyle = colour(name);
  g.lineWidth = width;
  g.setLineDash(dashed ? [6, 4] : []);
  g.beginPath();
  points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
  g.stroke();
  if (dots) points.forEach(([x, y]) => { g.beginPath(); g.arc(x, y, 2, 0, 2 * Math.PI); g.fill(); });
  g.restore();
}

// Text in the colour named.
export function label(g, text, x, y, name = "dim", align = "left") {
  g.fillStyle = colour(name);
  g.textAlign = align;
  g.fillText(text, x, y);
}

// A side × side tile of signed values on a canvas: blue where v > 0, red where v < 0, the page's
// background at 0, full colour at |v| ≥ top (a neuron's weights, a step's nudges).
export function signedTile(canvas, values, side, top = 1) {
  canvas.width = canvas.height = side;
  const g = canvas.getContext("2d"), image = g.createImageData(side, side);
  const dark = rgb("bg"), blue = rgb("plus"), red = rgb("minus");
  values.forEach((v, i) => image.data.set([...blend(dark, v > 0 ? blue : red, Math.min(1, Math.abs(v) / top)), 255], 4 * i));
  g.putImageData(image, 0, 0);
  return canvas;
}

// The drawing canvas: pen, eraser, and the drawing as the bytes /api/predict/bytes takes.

import { $, greyPicture } from "./api.js";
import { colour } from "./colours.js";
import { side, state } from "./state.js";

const canvas = $("canvas");
const ctx = canvas.getContext("2d");
let last = null;  // the previous pointer position while a stroke is going on

export function clearCanvas() {
  ctx.fillStyle = colour("paper");
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

function point(e) {
  const r = canvas.getBoundingClientRect();
  return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height };
}

function stroke(from, to) {
  ctx.strokeStyle = colour(state.tool === "pen" ? "ink" : "paper");
  ctx.lineWidth = state.tool === "pen" ? 20 : 40;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from.x, from.y);
  ctx.lineTo(to.x, to.y);
  ctx.stroke();
}

// ``drawn`` is called whenever the drawing changes.
export function setUpDrawing(drawn) {
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
  const useTool = (name) => {
    state.tool = name;
    $("pen").classList.toggle("on", name === "pen");
    $("eraser").classList.toggle("on", name === "eraser");
  };
  $("pen").onclick = () => useTool("pen");
  $("eraser").onclick = () => useTool("eraser");
}

// The drawing at the server's drawing size, one byte of grey a pixel, row by row.
export function canvasBytes() {
  const size = state.model.drawing_side;
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const sctx = small.getContext("2d");
  sctx.imageSmoothingQuality = "high";
  sctx.drawImage(canvas, 0, 0, size, size);
  const rgba = sctx.getImageData(0, 0, size, size).data;
  const grey = new Uint8Array(size * size);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
  return grey;
}

// Show an image the network was given on the drawing canvas, so drawing on it carries on from there.
export function paintOnCanvas(input) {
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(greyPicture(input, side()), 0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
}

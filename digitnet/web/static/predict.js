// Asking for predictions: at most one on its way; a newer drawing drops an older answer
// still on its way rather than waiting behind it.

import { api, say } from "./api.js";
import { canvasBytes, paintOnCanvas } from "./drawing.js";
import { state } from "./state.js";

const THROTTLE_MS = 100;  // at most ten predictions a second while drawing
const shown = [];         // what redraws with each answer
let controller = null;    // aborts the prediction on its way
let took = 0;             // how long the last answer took: a slow server is asked less often
let lastSent = 0;

export function onLook(redraw) { shown.push(redraw); }

export function drawn() {
  state.source = "canvas";
  state.testIndex = null;
  if (state.timer || !state.model) return;  // before the model is known, there is nothing to ask
  const gap = Math.max(THROTTLE_MS, 1.5 * took);
  state.timer = setTimeout(() => { state.timer = null; refresh(); }, Math.max(0, gap - (performance.now() - lastSent)));
}

// Ask again for what the network makes of what it is looking at (after a change of network too).
// With a label chosen, each answer has the cost of the example as that digit: a query's
// "&label=D", or nothing.
export function asLabel() { return state.label === null ? "" : `&label=${state.label}`; }

export function refresh() {
  const label = asLabel().replace("&", "?");
  return ask(() => state.source === "canvas"
    ? ["POST", `/api/predict/bytes${label}`, canvasBytes()] : ["POST", `/api/look${label}`, { pixels: state.source }]);
}

// An example from the server (a test image, noise, a dream): the network looks at it from now on.
// A test image comes with its label, which becomes the digit it should be; noise and dreams are
// asked for with the label chosen (asLabel), so each answer has its cost already.
export async function example(path, describe) {
  const answer = await ask(() => ["GET", path], (answer) => {  // before it is shown
    state.source = answer.image.map((v) => Math.round(v * 255));  // the image, not the input layer's deskewed copy
    state.testIndex = answer.index;
    if (answer.label !== null) state.label = answer.label;
  });
  if (!answer) return;
  paintOnCanvas(answer.image);
  say(describe(answer));
}

async function ask(request, adopt = () => {}) {
  if (controller) {  // its answer would be for an older drawing, or an older network
    took = Math.max(took, performance.now() - lastSent);
    controller.abort();
  }
  const mine = ++state.asked, sent = performance.now(), abort = new AbortController();
  controller = abort;
  state.inFlight = true;
  lastSent = sent;
  try {
    const [method, path, body] = request();
    const answer = await api(method, path, body, abort.signal);
    if (mine !== state.asked) return null;  // a newer question was asked meanwhile
    took = performance.now() - sent;
    adopt(answer);
    show(answer);
    return answer;
  } catch (e) {
    if (e.name !== "AbortError") say(e.message);
    return null;
  } finally {
    if (mine === state.asked) {
      state.inFlight = false;
      controller = null;
    }
  }
}

function show(answer) {
  state.look = answer;
  shown.forEach((redraw) => redraw(answer));
}

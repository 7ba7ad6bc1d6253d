// The Train panel: its choices from the server, starting, pausing and stepping a run, its
// place in the queue, the curves, and saving.

import { $, api, download, percent, stream } from "./api.js";
import { changed } from "./neuron.js";
import { curve, frame, label, scale, setUpPlot } from "./plots.js";
import { state } from "./state.js";

const epochs = [];  // what follows the training run, epoch by epoch

export function onEpoch(follow) { epochs.push(follow); }

// The menus and starting values, as the package's registries and the API state them.
export function fillForm(options) {
  const f = $("train-form").elements;
  for (const [field, choices] of [["activation", options.activations], ["cost", options.costs],
    ["optimizer", options.optimizers]]) {
    f[field].replaceChildren(...choices.map(({ name, about }) => {
      const option = new Option(name, name);
      option.title = about;
      return option;
    }));
  }
  const d = options.defaults;
  f.hidden.value = d.hidden.join(",");
  for (const name of ["activation", "cost", "optimizer", "lr", "batch_size", "epochs", "images"]) {
    f[name].value = d[name];
  }
  f.images.max = options.images ?? f.images.max;  // a static site has fewer images than the server
  about();
}

// What the chosen activation, cost and optimizer are, in words on the page (a menu's titles need a hover).
function about() {
  const f = $("train-form").elements;
  $("train-about").textContent = ["activation", "cost", "optimizer"]
    .map((field) => f[field].selectedOptions[0]?.title).filter(Boolean).join(" · ");
}

function trainOptions() {
  const f = $("train-form").elements;
  return {
    hidden: f.hidden.value.split(",").map((s) => parseInt(s, 10)),
    activation: f.activation.value, cost: f.cost.value, optimizer: f.optimizer.value,
    lr: parseFloat(f.lr.value), batch_size: parseInt(f.batch_size.value, 10),
    epochs: parseInt(f.epochs.value, 10), images: parseInt(f.images.value, 10),
  };
}

export const listen = stream("/api/train/events", (status) => showTraining(status), () => {
  const t = state.training;
  return t.state === "running" || t.state === "queued" || t.busy;
});

async function control(action, body) {
  try {
    showTraining(await api("POST", `/api/train${action}`, body));
    listen();
  } catch (e) {
    $("train-status").textContent = e.message;
  }
}

function ordinal(n) { return n === 1 ? "next" : `${n}${n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th"}`; }

async function save() {
  // Every visitor downloads their network; at the server's own computer it is also written to its file.
  const link = document.createElement("a");
  Object.assign(link, await download());
  document.body.appendChild(link);
  link.click();
  link.remove();
  try {
    $("train-status").textContent = state.model.save_to
      ? `Saved the network as it is now to ${(await api("POST", "/api/save")).path}.`
      : "Saved the network as it is now: your browser downloads it as a .npz model file.";
  } catch (e) {
    $("train-status").textContent = e.message;
  }
}

export function setUpTraining() {
  $("train-form").addEventListener("change", about);
  $("start").onclick = () => control("", trainOptions());
  $("pause").onclick = () => control(state.training.state === "paused" ? "/resume" : "/pause");
  $("step").onclick = async () => {
    if (state.training.state !== "paused") {
      try {
        showTraining(await api("POST", "/api/train", { ...trainOptions(), paused: true }));
      } catch (e) {
        $("train-status").textContent = e.message;
        return;
      }
    }
    control("/step");
  };
  $("save").onclick = save;
  window.addEventListener("resize", () => drawChart(state.training));
}

export async function showTraining(status) {
  state.training = status;
  const going = status.state === "running" || status.state === "queued";
  $("pause").textContent = status.state === "paused" ? "Resume" : "Pause";
  $("pause").disabled = !going && status.state !== "paused";
  const h = status.history, last = h[h.length - 1];
  const words = { idle: "Not training.", queued: "Waiting for a free trainer:", running: "Training…",
    paused: "Paused.", done: "Done.", error: "Stopped:" };
  $("train-status").textContent = [words[status.state],
    status.place ? `${ordinal(status.place)} in the queue.` : "", status.message,
    last ? `epoch ${last.epoch}/${status.epochs}, cost ${last.cost.toFixed(4)}, ` +
      `train ${percent(last.train_accuracy, 1)}, test ${percent(last.test_accuracy, 1)}` : ""]
    .filter(Boolean).join(" ");
  drawChart(status);
  if (h.length !== state.epochsShown) {
    const fresh = state.epochsShown !== -1;
    state.epochsShown = h.length;
    if (fresh && h.length) { // the page now uses the newly trained network, with no hand edits
      await changed();
      epochs.forEach((follow) => follow());
    }
  }
}

function drawChart(status) {
  // Draw at the canvas's on-screen size, so the text stays sharp and small at any width.
  const { g, w, h } = setUpPlot($("chart")), box = { x: 48, y: 24, w: w - 96, h: h - 50 };
  const hist = status.history, n = Math.max(status.epochs, hist.length, 1);
  const maxCost = Math.max(1e-9, ...hist.map((r) => r.cost));
  const x = n === 1 ? () => box.x + box.w / 2 : scale(1, n, box.x, box.x + box.w);
  const y = scale(0, 1, box.y + box.h, box.y);  // cost over the largest cost, and the accuracies, 0 to 1
  frame(g, box, { x: `epoch (of ${status.epochs || "–"})`, top: hist.length ? maxCost.toPrecision(3) : "",
    bottom: hist.length ? "0" : "" });
  label(g, "100 %", box.x + box.w + 6, box.y + 10);
  label(g, "0 %", box.x + box.w + 6, box.y + box.h);
  if (!hist.length) label(g, "the cost and accuracy of each epoch appear here", w / 2, h / 2, "dim", "center");
  const series = [["cost", "plus", (r) => r.cost / maxCost], ["train accuracy", "dim", (r) => r.train_accuracy],
    ["test accuracy", "gold", (r) => r.test_accuracy]];
  let legendX = box.x + 10;
  for (const [name, hue, value] of series) {
    curve(g, hist.map((r) => [x(r.epoch), y(value(r))]), hue, { dots: true });
    label(g, name, legendX, 14, hue);
    legendX += g.measureText(name).width + 18;
  }
  $("chart").dataset.points = hist.length; // for tests and curious people: how many epochs are drawn
}

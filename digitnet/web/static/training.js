// The Train panel: its choices from the server, starting, pausing and stepping a run, its
// place in the queue, the curves, and saving.

import { $, api, percent, stream } from "./api.js";
import { colour } from "./colours.js";
import { changed } from "./neuron.js";
import { setUpPlot } from "./plots.js";
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
  link.href = "/api/download";
  link.download = "";
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
  const { g, w, h } = setUpPlot($("chart")), pad = { l: 48, r: 48, t: 24, b: 26 };
  g.fillStyle = colour("dim");
  const hist = status.history, n = Math.max(status.epochs, hist.length, 1);
  const maxCost = Math.max(1e-9, ...hist.map((r) => r.cost));
  const x = (e) => pad.l + (w - pad.l - pad.r) * (n === 1 ? 0.5 : (e - 1) / (n - 1));
  const y = (v) => h - pad.b - (h - pad.t - pad.b) * v;
  g.strokeStyle = colour("line");
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
    ["cost", colour("plus"), (r) => r.cost / maxCost],
    ["train accuracy", colour("dim"), (r) => r.train_accuracy],
    ["test accuracy", colour("gold"), (r) => r.test_accuracy],
  ];
  let legendX = pad.l + 10;
  series.forEach(([name, stroke, value]) => {
    g.strokeStyle = g.fillStyle = stroke;
    g.lineWidth = 2;
    g.beginPath();
    hist.forEach((r, i) => (i ? g.lineTo : g.moveTo).call(g, x(r.epoch), y(value(r))));
    g.stroke();
    hist.forEach((r) => { g.beginPath(); g.arc(x(r.epoch), y(value(r)), 3, 0, 2 * Math.PI); g.fill(); });
    g.fillText(name, legendX, 14);
    legendX += g.measureText(name).width + 18;
  });
  $("chart").dataset.points = hist.length; // for tests and curious people: how many epochs are drawn
}

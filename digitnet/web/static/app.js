// The page: draw a digit, watch the network read it, look inside, tweak, retrain.
// Each part is a module; this one wires them together and starts.

import { drawAnswer } from "./answer.js";
import { inBrowser } from "./engine.js";
import { $, api, percent, say } from "./api.js";
import { chooseLabel, setUpCost } from "./cost.js";
import { drawActivations, drawInput } from "./diagram.js";
import { clearCanvas, setUpDrawing } from "./drawing.js";
import { fillExperiments, listen as listenToExperiment, setUpExperiments, showExperiment } from "./experiments.js";
import { applyLink, setUpLinks } from "./link.js";
import { loadModel } from "./model.js";
import { selectNeuron, setUpNeuronPanel } from "./neuron.js";
import { asLabel, drawn, example, onLook, refresh } from "./predict.js";
import { endedBefore, rememberWork } from "./session.js";
import { digitCount, named, notADigit, state } from "./state.js";
import { fillTeaching, setUpTeaching } from "./teach.js";
import { fillForm, listen, setUpTraining, showTraining } from "./training.js";

function setUpExamples() {
  $("clear").onclick = () => {
    clearCanvas();
    drawn();
    chooseLabel(null);  // a new drawing: which digit it should be is for the learner to say again
    say("Draw with the mouse or a finger.");
  };
  $("test-image").onclick = () => example("/api/examples/test", (a) =>
    `A test image labelled ${named(a.label)}: the network says ${named(a.prediction)}` +
    (a.prediction === a.label ? ", right." : `, wrong (${percent(a.probabilities[a.prediction])} sure).`));
  $("noise").onclick = () => example(`/api/examples/noise?seed=${Math.floor(Math.random() * 1e9)}${asLabel()}`, (a) =>
    notADigit(a.prediction)
      ? `Pure noise, and the network says it is not a digit, ${percent(a.probabilities[a.prediction])} sure.`
      : `Pure noise, yet the network says ${named(a.prediction)}, ${percent(a.probabilities[a.prediction])} sure.`);
  $("letter").onclick = () => example(`/api/examples/letter?seed=${Math.floor(Math.random() * 1e9)}${asLabel()}`,
    (a) => notADigit(a.prediction)
      ? `A letter, and the network says it is not a digit, ${percent(a.probabilities[a.prediction])} sure.`
      : `A letter, yet the network says ${named(a.prediction)}, ${percent(a.probabilities[a.prediction])} sure.`);
  $("dream").onclick = () => {
    const digit = $("dream-digit").value;
    example(`/api/examples/dream/${digit}?seed=${Math.floor(Math.random() * 1e6)}${asLabel()}`, (a) =>
      `The image that makes the network shout "${named(digit)}": it says ${named(a.prediction)}, ` +
      `${percent(a.probabilities[a.prediction])} sure. Not much like a ${named(digit)} to us.` +
      (inBrowser ? " (Dreamt by the Python package for the exported network when this site was made.)" : ""));
  };
}

function fillDigits(outputs) {
  // One choice per output neuron: the digits (or the classes it names) the network can dream of.
  const select = $("dream-digit");
  select.replaceChildren(...Array.from({ length: outputs }, (_, d) => new Option(named(d), d, d === 3, d === 3)));
}

async function start() {
  if (inBrowser) {
    document.querySelector("footer").textContent = "digitnet · the network runs in your browser, as network.py " +
      "runs it in Python; the experiments of chapter 2 and the dreams were worked out by the Python package.";
  }
  endedBefore();
  rememberWork();
  clearCanvas();
  setUpDrawing(drawn);
  setUpExamples();
  setUpNeuronPanel();
  setUpCost();
  setUpTeaching();
  setUpTraining();
  setUpExperiments();
  setUpLinks();
  onLook((answer) => { drawInput(answer.input); drawActivations(); drawAnswer(answer); });
  try {
    const [options] = await Promise.all([api("GET", "/api/options"), loadModel(selectNeuron)]);
    state.options = options;
    fillForm(options);
    applyLink();  // a classroom link's panels and options, over the defaults
    fillTeaching(options);
    fillExperiments(options);
    fillDigits(digitCount());
    await refresh();
    const [status, experiment] = await Promise.all([api("GET", "/api/train"), api("GET", "/api/experiments")]);
    state.epochsShown = status.history.length;
    showTraining(status);
    if (status.state === "running" || status.state === "queued" || status.busy) listen();
    showExperiment(experiment);  // one of this visitor's from before the page was loaded, if any
    if (experiment.state === "running" || experiment.state === "queued") listenToExperiment();
  } catch (e) {
    say(inBrowser ? `Cannot start the network: ${e.message}` : `Cannot reach the server: ${e.message}`);
  }
}

start();

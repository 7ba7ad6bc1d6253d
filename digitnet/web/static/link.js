// Classroom links: the page opened with chosen panels hidden, an experiment open and the Train panel's
// options set, from the address's fragment (nothing of it goes to any server), so that a teacher can
// hand out one exact exercise:
//   #hide=neuron,lab&hidden=32,16&activation=sigmoid&cost=quadratic&optimizer=sgd&lr=0.5&epochs=5&open=memorize
// Panels: draw, net, answer, neuron, lesson, train, lab; options: the Train panel's fields, by their names.
// "Link" below the Train panel gives the link to the page as it is set up now.

import { $ } from "./api.js";

const PANELS = ["draw", "net", "answer", "neuron", "lesson", "train", "lab"];
const EXPERIMENTS = ["memorize", "landscape", "sigmoid-vs-relu"];
const panel = (name) => $(name === "lab" ? "lab" : `${name}-panel`);
const form = () => $("train-form").elements;
const FIELDS = ["hidden", "activation", "cost", "optimizer", "lr", "batch_size", "epochs", "images"];

// Set the page up as the fragment says; what it cannot take is said in one line at the top.
export function applyLink() {
  const asked = new URLSearchParams(location.hash.slice(1)), refused = [];
  const hide = (asked.get("hide") || "").split(",").filter(Boolean);
  for (const name of hide.filter((n) => !PANELS.includes(n))) refused.push(`no panel "${name}"`);
  for (const name of PANELS) panel(name).hidden = hide.includes(name);
  for (const kind of (asked.get("open") || "").split(",").filter(Boolean)) {
    if (EXPERIMENTS.includes(kind)) $(`${kind}-panel`).open = true;
    else refused.push(`no experiment "${kind}"`);
  }
  for (const [key, value] of asked) {
    if (key === "hide" || key === "open") continue;
    const field = FIELDS.includes(key) && form()[key];
    if (!field) { refused.push(`no option "${key}"`); continue; }
    const was = field.value;
    field.value = value;
    if (field.value !== value || !field.checkValidity()) {  // not one of a menu's choices, or out of bounds
      field.value = was;
      refused.push(`${key} cannot be "${value}"`);
    }
  }
  $("train-form").dispatchEvent(new Event("change"));  // what listens to the form hears of its new values
  const notice = $("notice");
  if (refused.length) {
    notice.textContent = `This page's link asked for what it does not have: ${refused.join("; ")}.`;
    notice.dataset.kind = "link";
    notice.hidden = false;
  } else if (notice.dataset.kind === "link") {
    notice.hidden = true;
  }
}

// The link to this page as it is now: the hidden panels, the open experiments and the Train panel's options.
export function link() {
  const parts = new URLSearchParams(), hidden = PANELS.filter((name) => panel(name).hidden);
  if (hidden.length) parts.set("hide", hidden.join(","));
  const open = EXPERIMENTS.filter((kind) => $(`${kind}-panel`).open);
  if (open.length) parts.set("open", open.join(","));
  for (const name of FIELDS) parts.set(name, form()[name].value);
  return `${location.href.split("#")[0]}#${parts.toString().replaceAll("%2C", ",")}`;
}

export function setUpLinks() {
  addEventListener("hashchange", applyLink);
  $("link").onclick = async () => {
    const address = link();
    history.replaceState(null, "", address);
    try {
      await navigator.clipboard.writeText(address);
      $("train-status").textContent = "The link to this exercise is copied, and in the address bar.";
    } catch {
      $("train-status").textContent = "The link to this exercise is in the address bar.";
    }
  };
}

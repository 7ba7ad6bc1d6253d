// The visitor's session, as the page tells it: when the class is full (editing is off), and when the
// session has ended (the server restarted, or heard nothing from this page for too long), with what
// the page had that is now gone. The server says why; only the page knows what it showed.

import { state } from "./state.js";

const ENDED = "digitnet-ended";  // set by the server on a page load that replaced an ended session: why
const LOST = "digitnet-lost";    // what this tab had, kept across a reload, for saying what was lost
const WHY = { restarted: "the server was restarted", idle: "nothing was heard from this page for too long" };

const banner = () => document.getElementById("notice");

function show(kind, text, reload) {
  const b = banner();
  b.replaceChildren(text);
  b.dataset.kind = kind;
  if (reload) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Reload";
    button.onclick = () => location.reload();
    b.append(" ", button);
  }
  b.hidden = false;
}

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

// What this visitor has that the server keeps for them, in words: "" if nothing.
export function work() {
  const parts = [];
  const m = state.model, t = state.training, e = state.experiment;
  if (m && m.edits.length) parts.push(`your ${plural(m.edits.length, "hand edit")}`);
  if (m && m.taught) parts.push("the teaching you gave the network");
  if (t && t.state !== "idle") {
    const where = t.state === "done" ? "finished" : `${t.state} at epoch ${t.history.length} of ${t.epochs}`;
    parts.push(`your training run (${where})`);
  }
  if (e && e.kind && e.state !== "idle") parts.push(`your ${e.kind} experiment and what it measured`);
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts.join("");
}

// The server's answer that the session has ended (a 410, its one-line ``detail``): said at the top,
// with what was lost, and everything that listens for news stops (state.ended).
export function sessionEnded(detail) {
  if (state.ended) return;
  state.ended = true;
  const lost = work();
  show("ended", `${detail[0].toUpperCase()}${detail.slice(1)}.` + (lost ? ` Lost with it: ${lost}.` : ""), true);
}

// A page loaded in place of a session that had ended: say so once, with what the tab had (kept over the reload).
export function endedBefore() {
  const why = document.cookie.split("; ").find((c) => c.startsWith(`${ENDED}=`))?.split("=")[1];
  const lost = sessionStorage.getItem(LOST);
  sessionStorage.removeItem(LOST);
  if (!why) return;
  document.cookie = `${ENDED}=; Max-Age=0; Path=/`;
  show("ended", `Your last session on this server ended before this page was loaded (${WHY[why] || why}), ` +
    `and its work with it${lost ? `: ${lost}` : ""}. This page starts afresh from the served network.`);
}

// Editing is off (the class is full, or no session): say why; back on: say nothing.
export function showEditing(model) {
  if (state.ended) return;
  if (model.editing) {
    if (banner().dataset.kind === "full") banner().hidden = true;
    return;
  }
  show("full", `${model.notice[0].toUpperCase()}${model.notice.slice(1)}.`);
}

// Before the tab reloads, what it had: the next page says what was lost if the session has ended by then.
export function rememberWork() {
  addEventListener("pagehide", () => {
    const lost = work();
    if (lost) sessionStorage.setItem(LOST, lost);
  });
}

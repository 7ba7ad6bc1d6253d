// The answer: the digit, how sure, and a bar for each output.

import { $, isBlank, percent } from "./api.js";
import { notADigit, tag } from "./state.js";

export function buildBars(outputs) {
  const bars = $("bars");
  bars.replaceChildren();
  for (let d = 0; d < outputs; d++) {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.digit = d;
    row.innerHTML = `<span>${tag(d)}</span><span class="track"><span class="fill"></span></span><span class="pct"></span>`;
    bars.appendChild(row);
  }
}

export function drawAnswer(look) {
  const p = look.probabilities;
  const blank = isBlank(look);
  $("digit").textContent = blank ? "?" : tag(look.prediction);
  $("digit").classList.toggle("word", !blank && tag(look.prediction).length > 2);  // "not a digit", a class's name
  $("confidence").textContent = blank ? "draw a digit"
    : `${percent(p[look.prediction])} sure${notADigit(look.prediction) ? " it is not a digit" : ""}`;
  document.querySelectorAll(".bar").forEach((row, d) => {
    row.querySelector(".fill").style.width = percent(p[d] || 0, 1).replace(" ", "");
    row.querySelector(".pct").textContent = percent(p[d] || 0);
    row.classList.toggle("best", d === look.prediction && !blank);
  });
}

export function showAccuracy(p) { $("accuracy").textContent = p === null ? "–" : percent(p, 2); }

// Talking to the page's engine (the server, or the browser's own: engine.js), and the page's small helpers.

import { local } from "./engine.js";
import { sessionEnded } from "./session.js";
import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

export async function api(method, path, body, signal) {
  if (local) return (await local).request(method, path, body);
  const options = { method, headers: {}, signal };
  if (body instanceof Uint8Array) {
    options.headers["Content-Type"] = "application/octet-stream";
    options.body = body;
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail
      : (data.detail || []).map((e) => e.msg).join("; ");
    if (response.status === 410) sessionEnded(detail);  // the session and its work are gone: say so at the top
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

export function say(text) { $("caption").textContent = text; }

export function percent(p, digits = 0) { return `${(100 * p).toFixed(digits)} %`; }
// A cost, or ∞ for the null the server sends for an infinite one (strict JSON has no infinity).
export function cost(c, digits = 3) { return c === null ? "∞" : c.toFixed(digits); }

export function isBlank(answer) { return answer.input.every((v) => v === 0); }

// A side × side picture of grey values in [0, 1], as a small canvas.
export function greyPicture(values, side) {
  const c = document.createElement("canvas");
  c.width = c.height = side;
  const c2 = c.getContext("2d");
  const image = c2.createImageData(side, side);
  values.forEach((v, i) => {
    const g = Math.round(255 * Math.min(1, Math.max(0, v)));
    image.data.set([g, g, g, 255], 4 * i);
  });
  c2.putImageData(image, 0, 0);
  return c;
}

// A listener to the server's event stream at ``url`` (a status's path and "/events"): each message goes
// to ``show``. The stream ends when the work does (or after a minute); rather than let the browser
// reconnect on its own, it asks for the status once (which also hears if the session has ended: an
// event stream cannot say) and listens again only while ``goingOn()``.
export function stream(url, show, goingOn) {
  if (local) return async () => (await local).listen(url, show);  // the browser's engine tells of each change
  let events = null;
  const listen = () => {
    if (events) events.close();
    events = new EventSource(url);
    events.onmessage = (e) => show(JSON.parse(e.data));
    events.onerror = async () => {
      events.close();
      events = null;
      try {
        show(await api("GET", url.replace(/\/events$/, "")));
      } catch {
        return;  // the session has ended, or the server is gone: nothing more to hear
      }
      if (goingOn() && !state.ended) setTimeout(listen, 500);
    };
  };
  return listen;
}

// The visitor's network as a model file to download: where it is and its name ("": the server names it).
export async function download() {
  if (!local) return { href: "/api/download", download: "" };
  const { name, blob } = (await local).download();
  return { href: URL.createObjectURL(blob), download: name };
}

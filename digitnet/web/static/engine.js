// Which engine answers the page's questions: the server that served it (digitnet serve), or the browser
// itself, for the page as a static site (digitnet site). index.html's <meta name="digitnet-engine"> says
// which; it is the one difference between the two folders' files. The page asks either the same
// questions, by the API's paths (api.js's `api`), and gets the same answers.

export const inBrowser = document.querySelector('meta[name="digitnet-engine"]')?.content === "browser";

// The browser's engine (local.js), loading its network and images, or null on the server's page.
export const local = inBrowser ? import("./local.js") : null;

// Browser code (a string, served inside /ui/app.js): the token, the API calls, and the live
// tables. One overview a second; rates are the differences between two readings divided by
// the time between them (the collector's clock), as `pnpm top` computes them. Plain ES2020,
// no template literals and no backslashes (or it becomes String.raw); every value from the API
// is set as text, never as HTML.
export const MAIN_SCRIPT = `
const TOKEN_KEY = "eventpipe.adminToken";
const POLL_MS = 1000;
/** Five minutes of readings, one a second. */
const HISTORY_SIZE = 300;
const WINDOW_MS = HISTORY_SIZE * POLL_MS;

const $ = (id) => document.getElementById(id);

/** An element with attributes (class, data-*, on* listeners) and text or element children. */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (Math.abs(value) >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(1);
}

function formatAge(ms) {
  if (!(ms > 0)) return "–";
  const seconds = ms / 1000;
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + " min " + Math.floor(seconds % 60) + " s";
  return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
}

function formatTime(ms) {
  return ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–";
}

/** Per second; null without a baseline, a positive interval or a counter that grew. */
function rate(before, after, elapsedMs) {
  if (before === undefined || before === null || !(elapsedMs > 0) || after < before) return null;
  return ((after - before) * 1000) / elapsedMs;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET path, or POST body as JSON; the token, when there is one, as a bearer header. */
async function api(path, body) {
  const headers = { accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = "Bearer " + token;
  const init = { headers, cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "the collector is unreachable (" + error.message + ")");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {}
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || response.statusText);
  }
  return data;
}

const live = {
  /** Bumped whenever polling starts or stops: answers to an older session are dropped. */
  session: 0,
  timer: undefined,
  previous: undefined,
  histories: new Map(),
  collectors: new Map(),
  queueRows: new Map(),
  overview: undefined,
};

function setStatus(text, bad) {
  $("status").textContent = text;
  $("status").classList.toggle("bad", Boolean(bad));
}

function showLogin(message) {
  live.session++;
  clearTimeout(live.timer);
  clearData();
  $("dashboard").hidden = true;
  $("logout").hidden = true;
  $("open-warning").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  setStatus("not logged in");
  $("token").focus();
}

/** Forgets every figure, so nothing stays on screen without a valid token. */
function clearData() {
  for (const id of ["queues", "workers", "collectors", "dl-table"]) {
    $(id).querySelector("tbody").replaceChildren();
  }
  $("chart-queue").replaceChildren();
  $("rate-chart").replaceChildren();
  $("depth-chart").replaceChildren();
  $("dead-letters").hidden = true;
  live.previous = undefined;
  live.overview = undefined;
  live.histories.clear();
  live.collectors.clear();
  live.queueRows.clear();
}

/** 401 and 403 end the session (the token is forgotten); true when they did. */
function endedSession(error) {
  if (error.status !== 401 && error.status !== 403) return false;
  const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (error.status === 403) {
    showLogin("This token may not use the dashboard (it lacks the admin scope): " + error.message);
  } else {
    // A first visit without a token is no error: the form is the way in.
    showLogin(hadToken ? "Token refused: " + error.message : "");
  }
  return true;
}

/** Reads the overview every POLL_MS while the session lasts; errors are shown and retried. */
async function poll(session) {
  try {
    const overview = await api("/ui/api/overview");
    if (session !== live.session) return;
    if ($("dashboard").hidden) {
      $("login").hidden = true;
      $("dashboard").hidden = false;
      $("open-warning").hidden = overview.auth !== "open";
      $("logout").hidden = overview.auth === "open";
    }
    render(overview);
  } catch (error) {
    if (session !== live.session || endedSession(error)) return;
    setStatus("cannot read the figures: " + error.message + " (retrying)", true);
  }
  live.timer = setTimeout(() => poll(session), POLL_MS);
}

function start() {
  clearTimeout(live.timer);
  live.session++;
  setStatus("loading…");
  poll(live.session);
}

function render(overview) {
  const previous = live.previous;
  const elapsed = previous === undefined ? 0 : overview.atMs - previous.atMs;
  const before = new Map((previous ? previous.queues : []).map((q) => [q.queue, q]));
  for (const queue of overview.queues) {
    const last = before.get(queue.queue);
    queue.inRate = rate(last && last.enqueued, queue.enqueued, elapsed);
    queue.outRate = rate(last && last.processed, queue.processed, elapsed);
    let history = live.histories.get(queue.queue);
    if (history === undefined) {
      history = createHistory(HISTORY_SIZE);
      live.histories.set(queue.queue, history);
    }
    history.push({ at: overview.atMs, inRate: queue.inRate, outRate: queue.outRate, pending: queue.pending, inFlight: queue.inFlight });
  }
  renderQueues(overview.queues);
  renderWorkers(overview.workers, previous, elapsed);
  renderCollectors(overview.collectors);
  renderCharts(overview.queues);
  live.previous = overview;
  live.overview = overview;
  const count = overview.queues.length;
  setStatus("live · " + count + (count === 1 ? " queue" : " queues") + " · updated " + new Date().toLocaleTimeString());
  deadLettersChanged(overview.queues);
}

const QUEUE_FIELDS = [
  ["pending", (q) => formatNumber(q.pending)],
  ["inFlight", (q) => formatNumber(q.inFlight)],
  ["oldestPendingAgeMs", (q) => formatAge(q.oldestPendingAgeMs)],
  ["inRate", (q) => formatNumber(q.inRate)],
  ["outRate", (q) => formatNumber(q.outRate)],
  ["processed", (q) => formatNumber(q.processed)],
  ["retriesWaiting", (q) => formatNumber(q.retriesWaiting)],
  ["deadLetters", (q) => formatNumber(q.deadLetters)],
  ["liveWorkers", (q) => formatNumber(q.liveWorkers)],
];

/** Rows are made once per queue and updated in place, so their buttons stay put. */
function renderQueues(queues) {
  const body = $("queues").querySelector("tbody");
  for (const queue of queues) {
    let row = live.queueRows.get(queue.queue);
    if (row === undefined) {
      row = el("tr", { "data-queue": queue.queue }, el("td", {}, queue.queue));
      for (const [field] of QUEUE_FIELDS) row.append(el("td", { "data-field": field }));
      row.append(el("td", {}, el("button", { type: "button", class: "open-dead-letters", onclick: () => openDeadLetters(queue.queue) }, "dead letters")));
      live.queueRows.set(queue.queue, row);
      body.append(row);
    }
    for (const [field, format] of QUEUE_FIELDS) {
      const cell = row.querySelector('[data-field="' + field + '"]');
      cell.textContent = format(queue);
      cell.dataset.value = queue[field] === null ? "" : String(queue[field]);
    }
    row.querySelector('[data-field="deadLetters"]').classList.toggle("alert", queue.deadLetters > 0);
  }
}

function renderWorkers(workers, previous, elapsed) {
  const before = new Map((previous ? previous.workers : []).map((w) => [w.queue + "/" + w.id, w.processed]));
  const rows = workers.map((worker) =>
    el("tr", { "data-worker": worker.id, class: worker.expired ? "expired" : undefined, title: worker.expired ? "lease expired: presumed dead" : undefined },
      el("td", {}, worker.id), el("td", { class: "text" }, worker.queue),
      el("td", { "data-field": "inFlight" }, formatNumber(worker.inFlight)),
      el("td", { "data-field": "processed" }, formatNumber(worker.processed)),
      el("td", { "data-field": "rate" }, formatNumber(worker.expired ? null : rate(before.get(worker.queue + "/" + worker.id), worker.processed, elapsed)))));
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "no live worker")));
  $("workers").querySelector("tbody").replaceChildren(...rows);
}

/** A collector writes its snapshot once a second on its own clock: rates between snapshots. */
function renderCollectors(snapshots) {
  const histories = new Map();
  const rows = snapshots.map((snapshot) => {
    const seen = live.collectors.get(snapshot.id);
    const history = seen === undefined ? { latest: snapshot } : snapshot.atMs > seen.latest.atMs ? { previous: seen.latest, latest: snapshot } : seen;
    histories.set(snapshot.id, history);
    const { previous, latest } = history;
    const elapsed = previous === undefined ? 0 : latest.atMs - previous.atMs;
    return el("tr", { "data-collector": latest.id },
      el("td", {}, latest.id), el("td", {}, formatNumber(latest.streams)), el("td", {}, formatNumber(latest.buffered)),
      el("td", {}, formatNumber(rate(previous && previous.received, latest.received, elapsed))),
      el("td", {}, formatNumber(rate(previous && previous.accepted, latest.accepted, elapsed))));
  });
  live.collectors = histories;
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "no live collector")));
  $("collectors").querySelector("tbody").replaceChildren(...rows);
}

function renderCharts(queues) {
  const select = $("chart-queue");
  if (select.options.length !== queues.length) {
    const chosen = select.value;
    select.replaceChildren(...queues.map((q) => el("option", { value: q.queue }, q.queue)));
    if (queues.some((q) => q.queue === chosen)) select.value = chosen;
  }
  const history = live.histories.get(select.value);
  const samples = history ? history.values() : [];
  drawChart($("rate-chart"), samples, [{ key: "outRate", className: "out" }, { key: "inRate", className: "in" }], WINDOW_MS);
  drawChart($("depth-chart"), samples, [{ key: "pending", className: "pending" }, { key: "inFlight", className: "inflight" }], WINDOW_MS);
}

function setUp() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    $("login-error").textContent = "";
    start();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Logged out.");
  });
  $("chart-queue").addEventListener("change", () => {
    if (live.overview) renderCharts(live.overview.queues);
  });
  setUpDeadLetters();
  start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
else setUp();
`;

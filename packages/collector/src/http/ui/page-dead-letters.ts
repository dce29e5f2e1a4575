// Browser code (a string, served inside /ui/app.js): one queue's dead letters: the list with
// its filter, inspection of one, and replay and purge of one, the selected ones, or all that
// match the filter, each after a confirmation that says exactly what will happen. Rows are
// named by their `ref` (the entry's exact bytes), so an action touches what the page showed.
// String.raw: the code's own "\n" must reach the browser as written.
export const DEAD_LETTERS_SCRIPT = String.raw`
const deadLetters = { queue: undefined, entries: [], selected: new Set(), count: undefined };

function filterOf() {
  const reason = $("dl-reason").value;
  const type = $("dl-type").value.trim();
  return { reason: reason || undefined, type: type || undefined };
}

function dlPath(queue, rest) {
  return "/ui/api/queues/" + encodeURIComponent(queue) + "/dead-letters" + (rest || "");
}

function dlMessage(text, bad) {
  $("dl-message").textContent = text;
  $("dl-message").classList.toggle("bad", Boolean(bad));
}

async function openDeadLetters(queue) {
  if (deadLetters.queue !== queue) deadLetters.selected.clear();
  deadLetters.queue = queue;
  $("dl-queue").textContent = queue;
  $("dead-letters").hidden = false;
  dlMessage("");
  await loadDeadLetters();
  $("dead-letters").scrollIntoView({ block: "start" });
}

/** Reloads the list when the queue's dead-letter count changed (an action, a new failure). */
function deadLettersChanged(queues) {
  if (deadLetters.queue === undefined || $("dead-letters").hidden) return;
  const queue = queues.find((q) => q.queue === deadLetters.queue);
  if (queue === undefined || queue.deadLetters === deadLetters.count) return;
  loadDeadLetters();
}

async function loadDeadLetters() {
  const queue = deadLetters.queue;
  const { reason, type } = filterOf();
  const query = new URLSearchParams();
  if (reason) query.set("reason", reason);
  if (type) query.set("type", type);
  query.set("limit", $("dl-limit").value || "50");
  try {
    const data = await api(dlPath(queue, "?" + query.toString()));
    if (queue !== deadLetters.queue) return;
    deadLetters.entries = data.entries;
    deadLetters.count = data.total;
    renderDeadLetters(data);
  } catch (error) {
    if (!endedSession(error)) dlMessage("cannot list the dead letters: " + error.message, true);
  }
}

function renderDeadLetters(data) {
  const shown = new Set(data.entries.map((entry) => entry.ref));
  for (const ref of [...deadLetters.selected]) if (!shown.has(ref)) deadLetters.selected.delete(ref);
  $("dl-total").textContent = "(" + data.total + " in all; " + data.entries.length + " shown" + (filterOf().reason || filterOf().type ? ", filtered" : "") + ")";
  const rows = data.entries.map((entry) => {
    const what = entry.eventId === null ? "an undecodable entry" : entry.eventId + " (" + entry.type + ")";
    const error = entry.lastError || entry.message || "";
    return el("tr", { "data-ref": entry.ref, "data-event-id": entry.eventId },
      el("td", {}, el("input", { type: "checkbox", class: "dl-select", "aria-label": "select " + what, checked: deadLetters.selected.has(entry.ref), onchange: (event) => {
        if (event.target.checked) deadLetters.selected.add(entry.ref);
        else deadLetters.selected.delete(entry.ref);
        updateSelection();
      } })),
      el("td", { class: "text" }, formatTime(entry.deadLetteredAtMs)),
      el("td", { class: "text" }, entry.type === null ? "?" : entry.type),
      el("td", { class: "text" }, el("code", {}, entry.eventId === null ? "?" : entry.eventId)),
      el("td", { class: "text" }, entry.reason + (entry.status ? " (" + entry.status + ")" : "")),
      el("td", {}, formatNumber(entry.attempts)),
      el("td", { class: "error-text", title: error }, error.length > 160 ? error.slice(0, 160) + "…" : error),
      el("td", { class: "text" },
        el("button", { type: "button", class: "inspect", disabled: entry.eventId === null, onclick: () => inspect(entry) }, "inspect"), " ",
        el("button", { type: "button", class: "replay", disabled: entry.eventId === null, onclick: () => act("replay", { refs: [entry.ref] }, "the dead letter " + what + " of queue " + deadLetters.queue) }, "replay"), " ",
        el("button", { type: "button", class: "purge danger", onclick: () => act("purge", { refs: [entry.ref] }, "the dead letter " + what + " of queue " + deadLetters.queue) }, "purge")));
  });
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 8, class: "empty" }, "no dead letter" + (filterOf().reason || filterOf().type ? " matches the filter" : ""))));
  $("dl-table").querySelector("tbody").replaceChildren(...rows);
  updateSelection();
}

function updateSelection() {
  const count = deadLetters.selected.size;
  $("dl-replay-selected").disabled = count === 0;
  $("dl-purge-selected").disabled = count === 0;
  $("dl-replay-selected").textContent = "Replay selected" + (count ? " (" + count + ")" : "");
  $("dl-purge-selected").textContent = "Purge selected" + (count ? " (" + count + ")" : "");
  $("dl-select-all").checked = count > 0 && count === deadLetters.entries.length;
}

/** Resolves true when the operator confirms, false on Cancel or Escape. */
let confirming;
function confirmAction(text, label) {
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = label;
  $("confirm").showModal();
  return new Promise((resolve) => {
    confirming = resolve;
  });
}
function closeConfirm(answer) {
  $("confirm").close();
  if (confirming) confirming(answer);
  confirming = undefined;
}

/** Replays or purges a selection after the operator confirmed it. */
async function act(action, selection, description) {
  const queue = deadLetters.queue;
  const verb = action === "replay" ? "Replay" : "Purge";
  const consequence = action === "replay" ? "They go back on the queue as fresh events (attempts start again)." : "They are deleted for good.";
  if (!(await confirmAction(verb + " " + description + "? " + consequence, verb))) return;
  try {
    const result = await api(dlPath(queue, "/" + action), selection);
    const done = action === "replay" ? result.replayed : result.purged;
    const missing = result.missing && result.missing.length ? "; " + result.missing.length + " had changed or were gone already, untouched" : "";
    dlMessage((action === "replay" ? "Replayed " : "Purged ") + done + " dead letter" + (done === 1 ? "" : "s") + " of " + queue + missing + ".");
    if (selection.refs) for (const ref of selection.refs) deadLetters.selected.delete(ref);
  } catch (error) {
    if (endedSession(error)) return;
    dlMessage(verb + " failed: " + error.message, true);
  }
  await loadDeadLetters();
}

function describeAll(queue) {
  const { reason, type } = filterOf();
  let text = "every dead letter of queue " + queue;
  if (reason) text += " with reason " + reason;
  if (type) text += " of type " + type;
  return text + " (" + (reason || type ? "matching now" : deadLetters.count + " now") + ")";
}

function allMatching() {
  const { reason, type } = filterOf();
  if (!reason && !type) return { all: true };
  const selection = {};
  if (reason) selection.reason = reason;
  if (type) selection.type = type;
  return selection;
}

function hexDump(hex) {
  const lines = [];
  for (let offset = 0; offset < hex.length; offset += 32) {
    const bytes = hex.slice(offset, offset + 32).match(/../g) || [];
    lines.push((offset / 2).toString(16).padStart(8, "0") + "  " + bytes.join(" "));
  }
  return lines.join("\n");
}

async function inspect(entry) {
  try {
    const data = await api(dlPath(deadLetters.queue, "/" + encodeURIComponent(entry.eventId)));
    const detail = data.entries.find((e) => e.ref === entry.ref) || data.entries[0];
    showDetail(detail);
  } catch (error) {
    if (!endedSession(error)) dlMessage("cannot inspect " + entry.eventId + ": " + error.message, true);
  }
}

function showDetail(detail) {
  const event = detail.event || {};
  const meta = detail.meta;
  const fields = [
    ["event id", event.eventId], ["type", event.type], ["reason", meta.reason], ["message", meta.message],
    ["attempts", meta.attempts], ["HTTP status", meta.status], ["deliveries", meta.deliveries],
    ["first error", meta.firstError], ["last error", meta.lastError], ["worker", meta.worker],
    ["dead-lettered", formatTime(meta.deadLetteredAtMs)],
    ["first failed", meta.firstFailedAtMs && formatTime(meta.firstFailedAtMs)],
    ["last failed", meta.lastFailedAtMs && formatTime(meta.lastFailedAtMs)],
    ["enqueued", detail.enqueuedAtMs && formatTime(detail.enqueuedAtMs)],
    ["timestamp", event.timestampMs && formatTime(event.timestampMs)], ["source", event.source],
    ["schema version", event.schemaVersion || undefined],
    ["attributes", event.attributes && Object.keys(event.attributes).length ? JSON.stringify(event.attributes, null, 2) : undefined],
  ];
  $("inspect-id").textContent = event.eventId || "?";
  $("inspect-meta").replaceChildren(...fields.filter(([, value]) => value !== undefined && value !== null && value !== "")
    .flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
  const payload = detail.payload || { bytes: 0, text: "", hex: "" };
  $("inspect-size").textContent = payload.bytes + " bytes" + (payload.text === null ? ", not UTF-8" : "");
  const show = (asHex) => {
    $("inspect-payload").textContent = asHex || payload.text === null ? hexDump(payload.hex) : payload.text;
    $("inspect-text").disabled = payload.text === null || !asHex;
    $("inspect-hex").disabled = asHex || payload.text === null;
  };
  $("inspect-text").onclick = () => show(false);
  $("inspect-hex").onclick = () => show(true);
  show(payload.text === null);
  $("inspect").showModal();
}

function setUpDeadLetters() {
  $("dl-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    deadLetters.selected.clear();
    loadDeadLetters();
  });
  $("dl-select-all").addEventListener("change", (event) => {
    for (const entry of deadLetters.entries) {
      if (event.target.checked) deadLetters.selected.add(entry.ref);
      else deadLetters.selected.delete(entry.ref);
    }
    for (const box of document.querySelectorAll(".dl-select")) box.checked = event.target.checked;
    updateSelection();
  });
  const selected = () => ({ refs: [...deadLetters.selected] });
  const countSelected = () => deadLetters.selected.size + " selected dead letter" + (deadLetters.selected.size === 1 ? "" : "s") + " of queue " + deadLetters.queue;
  $("dl-replay-selected").addEventListener("click", () => act("replay", selected(), countSelected()));
  $("dl-purge-selected").addEventListener("click", () => act("purge", selected(), countSelected()));
  $("dl-replay-all").addEventListener("click", () => act("replay", allMatching(), describeAll(deadLetters.queue)));
  $("dl-purge-all").addEventListener("click", () => act("purge", allMatching(), describeAll(deadLetters.queue)));
  $("confirm-ok").addEventListener("click", () => closeConfirm(true));
  $("confirm-cancel").addEventListener("click", () => closeConfirm(false));
  $("confirm").addEventListener("cancel", () => closeConfirm(false));
  $("inspect-close").addEventListener("click", () => $("inspect").close());
}
`;

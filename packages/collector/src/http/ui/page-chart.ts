// Browser code (a string, served inside /ui/app.js): the per-queue history of readings in a
// ring buffer, and the line charts drawn from it as inline SVG. Plain ES2020, no template
// literals (this file is itself one) and no backslashes (or it becomes String.raw), every value
// set as text or an attribute, never as HTML.
export const CHART_SCRIPT = `
/** A fixed-size ring buffer: the newest CAPACITY readings, oldest first. */
function createHistory(capacity) {
  const items = new Array(capacity);
  let start = 0;
  let size = 0;
  return {
    push(item) {
      items[(start + size) % capacity] = item;
      if (size < capacity) size++;
      else start = (start + 1) % capacity;
    },
    values() {
      const out = [];
      for (let i = 0; i < size; i++) out.push(items[(start + i) % capacity]);
      return out;
    },
  };
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svgNode(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const name of Object.keys(attributes)) node.setAttribute(name, String(attributes[name]));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** 1, 2 or 5 times a power of ten, at least value: a y-axis top that reads well. */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** "-45 s", "-3 min": the left end of the time axis. */
function formatSpan(ms) {
  return ms < 120000 ? "-" + Math.round(ms / 1000) + " s" : "-" + Math.round(ms / 60000) + " min";
}

/**
 * Draws series (each {key, className}) of samples (each {at, [key]: number or null}) over the
 * time they cover, at least 30 s and at most maxWindowMs before the newest sample. Sized to
 * the element, so text is never stretched.
 */
function drawChart(svg, samples, series, maxWindowMs) {
  const width = Math.max(240, Math.round(svg.getBoundingClientRect().width) || 600);
  const height = 160;
  const left = 52;
  const right = 10;
  const top = 10;
  const bottom = 22;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  const end = samples.length > 0 ? samples[samples.length - 1].at : 0;
  const span = samples.length > 0 ? end - samples[0].at : 0;
  const windowMs = Math.min(maxWindowMs, Math.max(30000, span));
  const start = end - windowMs;
  let highest = 0;
  for (const sample of samples) {
    for (const line of series) {
      const value = sample[line.key];
      if (value != null && sample.at >= start && value > highest) highest = value;
    }
  }
  const max = niceMax(highest);
  const x = (at) => left + ((width - left - right) * (at - start)) / windowMs;
  const y = (value) => top + (height - top - bottom) * (1 - value / max);
  const nodes = [
    svgNode("line", { class: "axis", x1: left, y1: y(0), x2: width - right, y2: y(0) }),
    svgNode("line", { class: "axis", x1: left, y1: y(max), x2: width - right, y2: y(max) }),
    svgNode("line", { class: "axis", x1: left, y1: top, x2: left, y2: y(0) }),
    svgNode("text", { x: left - 6, y: y(max) + 4, "text-anchor": "end" }, formatNumber(max)),
    svgNode("text", { x: left - 6, y: y(0) + 4, "text-anchor": "end" }, "0"),
    svgNode("text", { x: left, y: height - 6 }, formatSpan(windowMs)),
    svgNode("text", { x: width - right, y: height - 6, "text-anchor": "end" }, "now"),
  ];
  for (const line of series) {
    const points = [];
    for (const sample of samples) {
      const value = sample[line.key];
      if (value == null || sample.at < start) continue;
      points.push(x(sample.at).toFixed(1) + "," + y(value).toFixed(1));
    }
    nodes.push(svgNode("polyline", { class: line.className, "data-series": line.key, points: points.join(" ") }));
  }
  svg.replaceChildren(...nodes);
}
`;

// The dashboard's stylesheet (served at /ui/app.css): plain, readable, no framework.
export const PAGE_STYLE = `
:root {
  --fg: #1d2330; --muted: #5f6b7a; --line: #dde2e8; --bg: #f6f7f9; --card: #fff;
  --in: #2f6fde; --out: #1f9d55; --pending: #c77c02; --inflight: #8a4fd1; --danger: #c0392b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
}
body { margin: 0; background: var(--bg); }
header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem;
  background: #1d2330; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; letter-spacing: .02em; }
header .status { color: #c9d1dc; font-size: .9rem; flex: 1; }
header .status.bad { color: #ffb4a8; }
main, #login { padding: 0 1.2rem 2rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .6rem 1rem 1rem; margin-top: 1rem; overflow-x: auto; }
h2 { font-size: 1rem; margin: .3rem 0 .6rem; }
h2 small { color: var(--muted); font-weight: normal; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: .25rem .6rem; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
td.error-text { text-align: left; white-space: normal; max-width: 28rem; color: var(--danger); }
td.empty { text-align: center; color: var(--muted); }
tr.expired td { color: var(--muted); text-decoration: line-through; }
td.alert { color: var(--danger); font-weight: 600; }
button { font: inherit; padding: .2rem .7rem; border: 1px solid #b8c0cc; border-radius: 4px;
  background: #fff; cursor: pointer; }
button:hover:not(:disabled) { background: #eef1f5; }
button:disabled { opacity: .5; cursor: default; }
button.danger { border-color: var(--danger); color: var(--danger); }
header button { background: transparent; color: #fff; border-color: #5f6b7a; }
input, select { font: inherit; padding: .15rem .35rem; border: 1px solid #b8c0cc; border-radius: 4px; }
#dl-limit { width: 5rem; }
.warning { margin: 1rem 1.2rem 0; padding: .6rem 1rem; background: #fff3cd;
  border: 1px solid #e0b400; border-radius: 6px; font-weight: 600; }
.card { max-width: 34rem; margin: 2rem auto; background: var(--card); padding: 1rem 1.4rem;
  border: 1px solid var(--line); border-radius: 6px; }
.card input { width: 100%; box-sizing: border-box; margin: .3rem 0 .8rem; }
.error { color: var(--danger); font-weight: 600; min-height: 1.2em; }
.message { min-height: 1.2em; margin: .4rem 0; color: var(--muted); }
.message.bad { color: var(--danger); font-weight: 600; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 900px) { .charts { grid-template-columns: 1fr; } }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: .85rem; }
.key::before { content: ""; display: inline-block; width: .8em; height: .25em;
  vertical-align: middle; margin: 0 .25em 0 .4em; }
.key.in::before { background: repeating-linear-gradient(90deg, var(--in) 0 6px, transparent 6px 9px); } .key.out::before { background: var(--out); }
.key.pending::before { background: var(--pending); }
.key.inflight::before { background: var(--inflight); }
svg { width: 100%; height: 160px; display: block; }
svg .axis { stroke: var(--line); }
svg text { fill: var(--muted); font-size: 11px; }
svg polyline { fill: none; stroke-width: 1.8; }
svg .in { stroke: var(--in); stroke-dasharray: 6 3; } svg .out { stroke: var(--out); }
svg .pending { stroke: var(--pending); } svg .inflight { stroke: var(--inflight); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin-bottom: .4rem; }
.toolbar .spacer { flex: 1; }
dialog { border: 1px solid var(--line); border-radius: 6px; max-width: 52rem; width: 90vw; }
dialog::backdrop { background: rgba(29, 35, 48, .45); }
dialog .buttons { display: flex; justify-content: flex-end; gap: .5rem; margin-top: .8rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0 .8rem; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-all; white-space: pre-wrap; }
pre { background: #f0f2f5; padding: .6rem; border-radius: 4px; max-height: 22rem; overflow: auto;
  white-space: pre-wrap; word-break: break-all; margin: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

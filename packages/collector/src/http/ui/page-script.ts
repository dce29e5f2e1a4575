// /ui/app.js: the dashboard's browser code, assembled from its parts into one strict-mode
// function scope, so the parts share their helpers and nothing leaks into the page's globals.
import { CHART_SCRIPT } from "./page-chart.js";
import { DEAD_LETTERS_SCRIPT } from "./page-dead-letters.js";
import { MAIN_SCRIPT } from "./page-main.js";

export const PAGE_SCRIPT = [
  "// eventpipe dashboard, served by the collector (packages/collector/src/http/ui).",
  '"use strict";',
  "(() => {",
  CHART_SCRIPT,
  DEAD_LETTERS_SCRIPT,
  MAIN_SCRIPT,
  "})();",
  "",
].join("\n");

// The dashboard's one HTML page (served at /ui). It holds no data: the script fills it from
// /ui/api once a token is given (or at once when the collector has no tokens).
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>eventpipe dashboard</title>
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>eventpipe</h1>
  <span id="status" class="status" role="status">loading…</span>
  <button id="logout" type="button" hidden>Log out</button>
</header>
<p id="open-warning" class="warning" hidden>No tokens are configured (COLLECTOR_TOKENS is empty):
  these figures, the dead letters and their replay and purge buttons are open to anyone who can
  reach this port.</p>

<section id="login" hidden>
  <form id="login-form" class="card">
    <h2>Admin token</h2>
    <p>Paste a collector token allowed the <code>admin</code> scope. It stays in this tab
      (sessionStorage, gone when the tab closes) and is sent as <code>authorization: Bearer</code>
      to <code>/ui/api</code>.</p>
    <label>Token <input id="token" type="password" autocomplete="off" spellcheck="false" required></label>
    <button type="submit">Log in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>

<main id="dashboard" hidden>
  <section>
    <h2>Queues</h2>
    <table id="queues">
      <thead><tr>
        <th>queue</th><th>pending</th><th>in flight</th><th>oldest pending</th><th>in /s</th>
        <th>out /s</th><th>processed</th><th>retries waiting</th><th>dead letters</th>
        <th>workers</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section>
    <h2>Last minutes of <select id="chart-queue" aria-label="queue to chart"></select></h2>
    <div class="charts">
      <figure>
        <figcaption>events/s: <span class="key in">in</span> <span class="key out">out</span></figcaption>
        <svg id="rate-chart" role="img" aria-label="in and out rates"></svg>
      </figure>
      <figure>
        <figcaption>depth: <span class="key pending">pending</span> <span class="key inflight">in flight</span></figcaption>
        <svg id="depth-chart" role="img" aria-label="pending and in-flight events"></svg>
      </figure>
    </div>
  </section>

  <section>
    <h2>Workers</h2>
    <table id="workers">
      <thead><tr>
        <th>worker</th><th class="text">queue</th><th>in flight</th><th>processed</th><th>processed /s</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Collectors</h2>
    <table id="collectors">
      <thead><tr>
        <th>collector</th><th>streams</th><th>buffered</th><th>received /s</th><th>accepted /s</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="dead-letters" hidden>
    <h2>Dead letters of <span id="dl-queue"></span> <small id="dl-total"></small></h2>
    <form id="dl-filter" class="toolbar">
      <label>reason <select id="dl-reason">
        <option value="">any</option><option>max_attempts</option><option>rejected</option>
        <option>poison</option><option>undecodable</option>
      </select></label>
      <label>type <input id="dl-type" placeholder="any"></label>
      <label>show <input id="dl-limit" type="number" min="1" max="1000" value="50"></label>
      <button type="submit">Refresh</button>
      <span class="spacer"></span>
      <button id="dl-replay-selected" type="button" disabled>Replay selected</button>
      <button id="dl-purge-selected" type="button" class="danger" disabled>Purge selected</button>
      <button id="dl-replay-all" type="button">Replay all matching</button>
      <button id="dl-purge-all" type="button" class="danger">Purge all matching</button>
    </form>
    <p id="dl-message" class="message" role="status"></p>
    <table id="dl-table">
      <thead><tr>
        <th><input id="dl-select-all" type="checkbox" aria-label="select all shown"></th>
        <th class="text">dead-lettered (UTC)</th><th class="text">type</th><th class="text">event id</th>
        <th class="text">reason</th><th>attempts</th><th class="text">last error</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>

<dialog id="confirm">
  <p id="confirm-text"></p>
  <div class="buttons">
    <button id="confirm-cancel" type="button">Cancel</button>
    <button id="confirm-ok" type="button" class="danger">Confirm</button>
  </div>
</dialog>

<dialog id="inspect">
  <h3>Dead letter <code id="inspect-id"></code></h3>
  <dl id="inspect-meta"></dl>
  <div class="toolbar">
    <strong>payload</strong> <span id="inspect-size"></span>
    <button id="inspect-text" type="button">text</button>
    <button id="inspect-hex" type="button">hex</button>
  </div>
  <pre id="inspect-payload"></pre>
  <div class="buttons"><button id="inspect-close" type="button">Close</button></div>
</dialog>
</body>
</html>
`;

// The dashboard (`GET /` on api.listen, README "Dashboard"): one self-contained page, its CSS
// and script inline, no external assets (works offline, nothing to build). It opens
// `/api/events` (server-sent events, dashboard-feed.ts) and redraws from each `state` message;
// the buttons POST to `/api/containers/<name>/wake|sleep`. A TS string, so tools/build-js.ts
// ships it in the image like any module. The script avoids backticks: this is a template literal.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bellhop</title>
<style>
:root { --bg:#f6f7f9; --fg:#1b1f24; --muted:#57606a; --card:#fff; --line:#d0d7de; --ok:#116329; --okbg:#dafbe1; --bad:#a40e26; --badbg:#ffebe9; --warn:#7d4e00; --warnbg:#fff8c5; --sleep:#3e4bb1; --sleepbg:#ddf4ff; --accent:#0550ae; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9da7b3; --card:#161b22; --line:#30363d; --ok:#7ee787; --okbg:#12361f; --bad:#ffa198; --badbg:#490202; --warn:#f2cc60; --warnbg:#3b2e00; --sleep:#a5d6ff; --sleepbg:#0c2d6b; --accent:#79c0ff; } }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:center; padding:.75rem 1rem; border-bottom:1px solid var(--line); background:var(--card); }
header h1 { font-size:1.2rem; margin:0; }
main { display:grid; gap:1rem; padding:1rem; grid-template-columns:repeat(auto-fit, minmax(min(100%, 28rem), 1fr)); }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.75rem 1rem; min-width:0; }
section.wide { grid-column:1 / -1; }
h2 { font-size:1.05rem; margin:.1rem 0 .6rem; }
h3 { font-size:1rem; margin:.2rem 0; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); white-space:nowrap; }
th { color:var(--muted); font-weight:600; }
.route { border-top:1px solid var(--line); padding:.6rem 0; }
.route:first-of-type { border-top:0; }
.meta { color:var(--muted); font-size:.9rem; }
.badge { display:inline-block; padding:0 .45rem; border-radius:1rem; font-size:.8rem; font-weight:600; }
.ok { color:var(--ok); background:var(--okbg); }
.bad { color:var(--bad); background:var(--badbg); }
.warn { color:var(--warn); background:var(--warnbg); }
.sleep { color:var(--sleep); background:var(--sleepbg); }
.live { margin-left:auto; }
button { font:inherit; font-size:.85rem; padding:.25rem .7rem; border-radius:6px; border:1px solid var(--line); background:var(--bg); color:var(--fg); cursor:pointer; min-height:2rem; }
button:hover { border-color:var(--accent); }
button:focus-visible { outline:2px solid var(--accent); outline-offset:2px; }
button[disabled] { opacity:.55; cursor:default; }
ul.events { list-style:none; margin:0; padding:0; max-height:22rem; overflow:auto; font-size:.9rem; }
ul.events li { padding:.25rem 0; border-bottom:1px solid var(--line); }
time { color:var(--muted); font-variant-numeric:tabular-nums; margin-right:.5rem; }
svg { max-width:100%; height:auto; display:block; }
.legend { display:flex; flex-wrap:wrap; gap:.25rem .9rem; font-size:.85rem; margin-top:.4rem; }
.legend span::before { content:""; display:inline-block; width:.8rem; height:.8rem; border-radius:2px; margin-right:.3rem; vertical-align:-1px; background:var(--c); }
.empty { color:var(--muted); font-style:italic; }
#status { min-height:1.4em; }
</style>
</head>
<body>
<header>
  <h1>Bellhop</h1>
  <span class="meta" id="summary"></span>
  <span class="live badge warn" id="live" role="status">connecting…</span>
</header>
<p id="status" class="meta" role="status" aria-live="polite" style="margin:.5rem 1rem 0"></p>
<main>
  <section class="wide" aria-labelledby="h-routes"><h2 id="h-routes">Routes</h2><div id="routes"><p class="empty">Loading…</p></div></section>
  <section class="wide" aria-labelledby="h-rates"><h2 id="h-rates">Requests per second, last 15 minutes</h2><div id="rates"></div></section>
  <section class="wide" aria-labelledby="h-containers"><h2 id="h-containers">Sleeping containers</h2><div id="containers" class="scroll"></div></section>
  <section aria-labelledby="h-events"><h2 id="h-events">Recent events</h2><ul class="events" id="events"></ul></section>
  <section aria-labelledby="h-docker"><h2 id="h-docker">Docker hosts</h2><div id="docker" class="scroll"></div></section>
  <section aria-labelledby="h-certs"><h2 id="h-certs">Certificates</h2><div id="certs" class="scroll"></div></section>
  <section class="wide" aria-labelledby="h-problems"><h2 id="h-problems">Errors and warnings</h2><div id="problems"></div></section>
</main>
<script>
"use strict";
var COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#d1242f", "#0598bc", "#6e7781"];
var state = null;
function el(tag, attrs) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) { if (k === "text") e.textContent = attrs[k]; else if (k === "class") e.className = attrs[k]; else e.setAttribute(k, attrs[k]); }
  for (var i = 2; i < arguments.length; i++) { var c = arguments[i]; if (c == null) continue; e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
  return e;
}
function badge(text, cls) { return el("span", { "class": "badge " + cls, text: text }); }
function healthClass(h) { return h === "healthy" ? "ok" : h === "unhealthy" ? "bad" : "warn"; }
function stateClass(s) { return s === "awake" ? "ok" : s === "asleep" ? "sleep" : "warn"; }
function duration(ms) {
  if (ms == null) return "–";
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  var m = Math.floor(s / 60); s = s % 60;
  if (m < 60) return m + " min " + (s < 10 ? "0" : "") + s + " s";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}
function clock(t) { var d = new Date(t); return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
function table(head, rows) {
  var tr = el("tr"); head.forEach(function (h) { tr.appendChild(el("th", { scope: "col", text: h })); });
  var tb = el("tbody"); rows.forEach(function (r) { var row = el("tr"); r.forEach(function (c) { row.appendChild(el("td", null, c)); }); tb.appendChild(row); });
  return el("div", { "class": "scroll" }, el("table", null, el("thead", null, tr), tb));
}
function replace(id, node) { var box = document.getElementById(id); box.textContent = ""; box.appendChild(node); }
function empty(text) { return el("p", { "class": "empty", text: text }); }

function renderRoutes(s) {
  if (!s.routes.length) return replace("routes", empty("No routes yet: label a container with proxy.aliases, or add routes: to the config file."));
  var box = el("div");
  s.routes.forEach(function (r) {
    var hosts = el("span", { "class": "meta" }, r.hosts.join(", "));
    var head = el("div", null, el("h3", null, r.alias + " "), hosts, " ", el("span", { "class": "meta", text: "· " + r.load_balance.mode + (r.load_balance.sticky ? " (sticky)" : "") + " · " + r.summary }));
    var rows = r.members.map(function (m) {
      // A sleeping member is not probed: its health is not news, its state says why.
      return [m.name, m.state === "asleep" ? badge("not probed", "sleep") : badge(m.health, healthClass(m.health)), badge(m.state, stateClass(m.state)),
        m.configured_weight == null ? "–" : String(m.configured_weight) + (m.normalised_weight == null ? "" : " (" + m.normalised_weight + ")"),
        String(m.in_flight), m.latency_ms == null ? "–" : Math.round(m.latency_ms) + " ms", el("span", { "class": "meta", text: m.reason || m.url })];
    });
    box.appendChild(el("div", { "class": "route", "data-route": r.alias }, head, table(["member", "health", "state", "weight", "in flight", "latency", "detail"], rows)));
  });
  replace("routes", box);
}

// Rows are kept per container and updated in place: a button rebuilt every second would lose
// clicks (mousedown on one element, mouseup on its replacement) and keyboard focus.
var containerRows = {};
function renderContainers(s) {
  var list = (s.containers || []), box = document.getElementById("containers");
  if (!list.length) { containerRows = {}; return replace("containers", empty("No container has sleep settings (proxy.idle_timeout).")); }
  var tbody = box.querySelector("tbody");
  if (!tbody) { replace("containers", table(["container", "state", "sleeps in", "in flight", "actions"], [])); tbody = box.querySelector("tbody"); containerRows = {}; }
  var seen = {};
  list.forEach(function (c) {
    seen[c.name] = true;
    var row = containerRows[c.name];
    if (!row) {
      var wake = el("button", { type: "button", "data-action": "wake", "data-container": c.name, text: "Wake now", "aria-label": "Wake " + c.name + " now" });
      var sleep = el("button", { type: "button", "data-action": "sleep", "data-container": c.name, text: "Sleep now", "aria-label": "Put " + c.name + " to sleep now" });
      row = { tr: el("tr", { "data-container": c.name }), state: el("td"), until: el("td"), flight: el("td"), wake: wake, sleep: sleep };
      row.tr.appendChild(el("td", { text: c.name })); row.tr.appendChild(row.state); row.tr.appendChild(row.until); row.tr.appendChild(row.flight);
      row.tr.appendChild(el("td", null, wake, " ", sleep));
      containerRows[c.name] = row;
    }
    tbody.appendChild(row.tr); // keeps the server's order (by name)
    row.state.textContent = ""; row.state.appendChild(badge(c.state, stateClass(c.state)));
    row.until.textContent = c.msUntilSleep == null ? "–" : duration(c.msUntilSleep);
    row.flight.textContent = String(c.inFlight);
    if (!row.busy) { row.wake.disabled = c.state !== "asleep"; row.sleep.disabled = c.state !== "awake"; }
  });
  Object.keys(containerRows).forEach(function (k) { if (!seen[k]) { containerRows[k].tr.remove(); delete containerRows[k]; } });
}

function renderRates(s) {
  var r = s.rates, names = Object.keys(r.routes).sort();
  // Drawn in CSS pixels at the box's width, so the labels keep their size on a phone.
  var W = Math.max(280, document.getElementById("rates").clientWidth || 720), H = 200, L = 42, B = 22;
  var max = 0; names.forEach(function (k) { r.routes[k].forEach(function (v) { if (v > max) max = v; }); });
  var top = 1; // a round ceiling: 1, 2, 5, 10, 20, 50…
  while (top < max) top = String(top)[0] === "2" ? top * 2.5 : top * 2;
  var ns = "http://www.w3.org/2000/svg";
  function s_(tag, a) { var e = document.createElementNS(ns, tag); for (var k in a) e.setAttribute(k, a[k]); return e; }
  var svg = s_("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": "Requests per second per route over the last 15 minutes" });
  var axis = getComputedStyle(document.body).getPropertyValue("color");
  for (var g = 0; g <= 4; g++) {
    var y = 8 + (H - B - 8) * g / 4;
    svg.appendChild(s_("line", { x1: L, x2: W, y1: y, y2: y, stroke: axis, "stroke-opacity": ".15" }));
    var t = s_("text", { x: L - 6, y: y + 4, "text-anchor": "end", "font-size": "11", fill: axis }); t.textContent = String(Math.round(top * (4 - g) / 4 * 100) / 100); svg.appendChild(t);
  }
  [["-15 min", 0], ["-10 min", 30], ["-5 min", 60], ["now", 89]].forEach(function (p) {
    var t = s_("text", { x: L + (W - L) * p[1] / 89, y: H - 5, "text-anchor": p[1] === 0 ? "start" : p[1] === 89 ? "end" : "middle", "font-size": "11", fill: axis }); t.textContent = p[0]; svg.appendChild(t);
  });
  var legend = el("div", { "class": "legend" });
  names.forEach(function (k, i) {
    var vals = r.routes[k], off = 90 - vals.length, pts = [];
    vals.forEach(function (v, j) { pts.push((L + (W - L) * (off + j) / 89).toFixed(1) + "," + (8 + (H - B - 8) * (1 - v / top)).toFixed(1)); });
    var color = COLORS[i % COLORS.length];
    svg.appendChild(s_("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": "2", "stroke-linejoin": "round" }));
    var end = pts[pts.length - 1].split(","); // the latest figure, visible even before a line has two points
    svg.appendChild(s_("circle", { cx: end[0], cy: end[1], r: "3", fill: color }));
    var last = vals[vals.length - 1];
    legend.appendChild(el("span", { style: "--c:" + color, text: k + " " + last + "/s" }));
  });
  var box = el("div", null, svg, names.length ? legend : empty("No requests in the last 15 minutes."));
  replace("rates", box);
}

function renderDocker(s) {
  if (!s.docker.length) return replace("docker", empty("No Docker hosts configured."));
  replace("docker", table(["host", "state", "last sync"], s.docker.map(function (d) {
    return [d.host, badge(d.state, d.state === "synced" ? "ok" : d.state === "connecting" ? "warn" : "bad"), d.seconds_since_sync == null ? "never" : d.seconds_since_sync + " s ago"];
  })));
}

function renderCerts(s) {
  if (!s.certs.length) return replace("certs", empty("No certificates (HTTPS is off)."));
  replace("certs", table(["names", "state", "expires", "source", "error"], s.certs.map(function (c) {
    var left = c.not_after ? (Date.parse(c.not_after) - Date.now()) / 86400000 : null;
    var exp = c.not_after ? c.not_after.slice(0, 10) + " (" + Math.floor(left) + " days)" : "–";
    return [c.names.join(", "), badge(c.state, c.state === "valid" ? (left != null && left < 14 ? "warn" : "ok") : c.state === "failed" || c.state === "missing" ? "bad" : "warn"), exp, c.source, c.last_error || ""];
  })));
}

function renderProblems(s) {
  var all = s.errors.map(function (e) { return ["error", e]; }).concat(s.warnings.map(function (w) { return ["warning", w]; }));
  if (!all.length) return replace("problems", empty("No errors or warnings from labels or the config file."));
  replace("problems", table(["", "code", "source", "key", "message"], all.map(function (p) {
    var e = p[1];
    return [badge(p[0], p[0] === "error" ? "bad" : "warn"), e.code || "", e.source || "", e.key || "", el("span", { style: "white-space:normal", text: e.message || "" })];
  })));
}

function renderEvents(s) {
  var ul = document.getElementById("events"); ul.textContent = "";
  if (!s.events.length) { ul.appendChild(el("li", { "class": "empty", text: "Nothing yet." })); return; }
  s.events.forEach(function (e) {
    ul.appendChild(el("li", null, el("time", { datetime: new Date(e.at).toISOString(), text: clock(e.at) }), e.level === "warn" ? badge(e.kind, "warn") : badge(e.kind, "ok"), " " + e.text));
  });
}

function render() {
  var s = state; if (!s) return;
  var members = 0, healthy = 0;
  s.routes.forEach(function (r) { r.members.forEach(function (m) { members++; if (m.usable) healthy++; }); });
  document.getElementById("summary").textContent = s.routes.length + " routes · " + healthy + "/" + members + " members usable" + (s.errors.length ? " · " + s.errors.length + " errors" : "");
  renderContainers(s);
  // The other sections are rebuilt only when what they show changed.
  [["routes", renderRoutes, s.routes], ["rates", renderRates, s.rates], ["docker", renderDocker, s.docker], ["certs", renderCerts, s.certs],
   ["problems", renderProblems, [s.errors, s.warnings]], ["events", renderEvents, s.events]].forEach(function (p) {
    var key = JSON.stringify(p[2]);
    if (shown[p[0]] !== key) { shown[p[0]] = key; p[1](s); }
  });
}
var shown = {};

function connect() {
  var live = document.getElementById("live");
  var es = new EventSource("api/events");
  es.addEventListener("state", function (ev) { state = JSON.parse(ev.data); render(); live.textContent = "live"; live.className = "live badge ok"; });
  es.onerror = function () { live.textContent = "reconnecting…"; live.className = "live badge bad"; };
}

document.addEventListener("click", function (ev) {
  var b = ev.target.closest && ev.target.closest("button[data-action]");
  if (!b) return;
  var name = b.getAttribute("data-container"), verb = b.getAttribute("data-action");
  var status = document.getElementById("status"), row = containerRows[name];
  if (row) row.busy = true;
  b.disabled = true;
  status.textContent = (verb === "wake" ? "Waking " : "Putting to sleep: ") + name + "…";
  fetch("api/containers/" + encodeURIComponent(name) + "/" + verb, { method: "POST" }).then(function (res) {
    return res.json().then(function (body) {
      status.textContent = res.ok ? name + ": " + body.state : name + ": " + (body.error ? body.error.message + (body.error.cause ? " (" + body.error.cause + ")" : "") : res.status);
    });
  }).catch(function (err) { status.textContent = name + ": " + err; }).then(function () { if (row) row.busy = false; if (state) renderContainers(state); });
});

var resizeTimer;
window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(function () { if (state) { shown.rates = ""; render(); } }, 150); });
connect();
</script>
</body>
</html>
`;

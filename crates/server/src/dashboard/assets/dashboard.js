// The helpdesk dashboard: one page, no dependencies, talking to the server it came from
// over the Connect protocol (JSON). Pages are chosen by the address's #fragment.
"use strict";

// ---------- talking to the server ----------

let token = sessionStorage.getItem("helpdesk-token") || "";

class ApiError extends Error {
  constructor(code, message) { super(message || code); this.code = code; }
}

// A unary call: POST /helpdesk.v1.<Service>/<Method> with a JSON body.
async function call(service, method, body = {}) {
  const response = await fetch(`/helpdesk.v1.${service}/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": `Bearer ${token}`, "Connect-Protocol-Version": "1" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let answer = {};
  try { answer = text ? JSON.parse(text) : {}; } catch (_) { answer = { message: text }; }
  if (!response.ok) throw new ApiError(answer.code || `http ${response.status}`, answer.message);
  return answer;
}

// A server stream: enveloped messages (flag byte, 4-byte big-endian length, JSON), the
// last one flagged 0x02 with the end of the stream. Calls `onMessage` for each message.
async function stream(service, method, body, onMessage, signal) {
  const payload = new TextEncoder().encode(JSON.stringify(body));
  const request = new Uint8Array(5 + payload.length);
  new DataView(request.buffer).setUint32(1, payload.length);
  request.set(payload, 5);
  const response = await fetch(`/helpdesk.v1.${service}/${method}`, {
    method: "POST", signal,
    headers: { "Content-Type": "application/connect+json", "Authorization": `Bearer ${token}`, "Connect-Protocol-Version": "1" },
    body: request,
  });
  if (!response.ok) {
    let answer = {};
    try { answer = await response.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(answer.code || `http ${response.status}`, answer.message);
  }
  const reader = response.body.getReader();
  let buffer = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new ApiError("unavailable", "the stream ended without its end message");
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer); joined.set(value, buffer.length);
    buffer = joined;
    while (buffer.length >= 5) {
      const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(1);
      if (buffer.length < 5 + length) break;
      const flags = buffer[0];
      const message = JSON.parse(new TextDecoder().decode(buffer.subarray(5, 5 + length)) || "{}");
      buffer = buffer.slice(5 + length);
      if (flags & 0x02) {
        if (message.error) throw new ApiError(message.error.code, message.error.message);
        return;
      }
      onMessage(message);
    }
  }
}

// ---------- what the organization looks like (names, time zone) ----------

const org = { timeZone: "UTC", names: new Map(), departments: [], levels: [] };

async function loadOrganization() {
  const [settings, roster, departments, levels] = await Promise.all([
    call("ConfigService", "GetOrganizationSettings"),
    call("RosterService", "ListAgents", { includeDeactivated: true }),
    call("ConfigService", "ListDepartments"),
    call("LevelService", "ListLevels"),
  ]);
  org.timeZone = settings.timeZone || "UTC";
  org.names = new Map((roster.agents || []).map((a) => [a.agentId, a.name]));
  org.departments = departments.departments || [];
  org.levels = levels.levels || [];
}

const nameOf = (agentId) => org.names.get(agentId) || "an agent you may not see";

// The name of an agent who may have joined since the page loaded: asked of the roster
// once it has what happened up to `position` (the roster and the stream's model fold
// the log each at its own pace).
async function nameOfNew(agentId, position) {
  if (!org.names.has(agentId)) {
    try {
      const answer = await call("RosterService", "GetAgent", { agentId, read: { minPosition: position || "0", waitMs: 5000 } });
      org.names.set(agentId, answer.agent.name);
    } catch (_) { /* not visible to the caller: nameOf says so */ }
  }
  return nameOf(agentId);
}

// ---------- people's units ----------

const num = (value) => Number(value || 0);

function duration(ms) {
  ms = Math.round(num(ms));
  if (ms === 0) return "0 s";
  if (ms < 1000) return `${ms} ms`;
  let s = Math.round(ms / 1000);
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]]) {
    if (s >= size || (unit === "s" && parts.length === 0)) { parts.push(`${Math.floor(s / size)} ${unit}`); s %= size; }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

function number(value, digits = 1) {
  const n = num(value);
  return Number.isInteger(n) ? n.toLocaleString("en") : n.toLocaleString("en", { maximumFractionDigits: digits });
}

function dateTime(timestamp) {
  if (!timestamp) return "—";
  return new Intl.DateTimeFormat("en-GB", { timeZone: org.timeZone, dateStyle: "medium", timeStyle: "short" }).format(new Date(timestamp));
}

function day(ymd) {
  if (!ymd) return "";
  const [y, m, d] = ymd.split("-").map(Number);
  return new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" }).format(Date.UTC(y, m - 1, d));
}

// Statistics of GetAgentStats and Benchmark: what unit each name is in.
const BADGE_DURATIONS = new Set(["paused_seconds", "online_seconds", "mean_answer_wait", "mean_chat_pickup", "mean_resolution", "longest_chat", "longest_call"]);
function statistic(name, value) {
  if (name === "worktime") return duration(num(value) * 3600000);
  if (name === "call_seconds") return duration(num(value) * 1000);
  if (name.endsWith("_ms") || BADGE_DURATIONS.has(name)) return duration(value);
  if (name.endsWith("_p")) return `${number(value)} %`;
  if (name.endsWith("_ph")) return `${number(value, 2)} an hour`;
  if (name === "longest_answer") return `${number(value)} characters`;
  return number(value);
}

// Report columns (docs/REPORTS.md): seconds, minutes, percentages, counts.
function column(name, value) {
  if (name.endsWith("_seconds")) return duration(num(value) * 1000);
  if (name === "call_minutes") return duration(num(value) * 60000);
  if (name.endsWith("_percent")) return `${number(value)} %`;
  return number(value);
}

// A report row's cell: blank where there is no data, never 0 (as hdctl shows it): a
// mean without samples (the server sends 0) and a rating percentage when nothing was
// rated.
const RATINGS = ["positive", "negative", "not_ranked"];
function cell(columns, values, i) {
  const name = columns[i];
  if (name.startsWith("mean_") && num(values[i]) === 0) return "";
  const rated = RATINGS.map((n) => columns.indexOf(n));
  if (name.endsWith("_percent") && rated.every((j) => j >= 0 && num(values[j]) === 0)) return "";
  return column(name, values[i]);
}

// Names of statistics and columns for people: units go (the values carry them).
const LABELS = { call_seconds: "call time", paused_seconds: "time paused", online_seconds: "time online (not paused)",
  call_minutes: "call time", not_ranked: "not rated", not_ranked_p: "not rated %", not_ranked_percent: "not rated %" };
const human = (name) => LABELS[name] || name.replace(/_seconds$/, "").replace(/_percent$/, " %").replace(/_/g, " ")
  .replace(/ p$/, " %").replace(/ ph$/, " an hour").replace(/ ms$/, " time");

// A badge holder's value: milliseconds for time statistics, characters, or a count.
function badgeValue(badge, value) {
  if (value === undefined || value === null) return "—";
  const stat = (badge.statistic || "").replace("BADGE_STATISTIC_", "").toLowerCase();
  if (BADGE_DURATIONS.has(stat)) return duration(value);
  return statistic(stat, value);
}

// ---------- building pages ----------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

function table(id, headers, rows) {
  return el("div", { class: "scroll" }, el("table", { id },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { class: h.num ? "num" : null }, typeof h === "string" ? h : h.label)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { class: headers[i].num ? "num" : null }, c)))))));
}

function select(id, options, value, onChange) {
  const node = el("select", { id, on: { change: (e) => onChange(e.target.value) } },
    options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
  return node;
}

const labelled = (text, control) => el("label", {}, text, control);
const agentLink = (agentId, name) => el("a", { href: `#/agent/${agentId}`, class: "agent" }, name || nameOf(agentId));
const page = () => document.getElementById("page");

function show(...nodes) { page().replaceChildren(...nodes); }
function failed(err) { show(el("div", { class: "card error" }, `Cannot show this page: ${err.message}`)); }

const WINDOWS = [["WINDOW_KIND_LAST_7_DAYS", "the last 7 days"], ["WINDOW_KIND_TODAY", "today"], ["WINDOW_KIND_LAST_30_DAYS", "the last 30 days"],
  ["WINDOW_KIND_ALL_TIME", "all time"], ["WINDOW_KIND_RANGE", "from … to …"]];
const departmentOptions = (none) => [["", none], ...org.departments.map((d) => [d.departmentId, d.name])];

// A window of days to choose (docs/STATISTICS.md, Windows): its kind, and its days for a
// range. `choice` is { kind, from, to }; `onChange` runs after every change.
function windowControls(id, choice, onChange) {
  const dates = el("span", { class: "controls" },
    labelled("from", el("input", { id: `${id}-from`, type: "date", value: choice.from, on: { change: (e) => { choice.from = e.target.value; onChange(); } } })),
    labelled("to", el("input", { id: `${id}-to`, type: "date", value: choice.to, on: { change: (e) => { choice.to = e.target.value; onChange(); } } })));
  dates.hidden = choice.kind !== "WINDOW_KIND_RANGE";
  return [labelled("window", select(id, WINDOWS, choice.kind, (v) => {
    choice.kind = v;
    dates.hidden = v !== "WINDOW_KIND_RANGE";
    if (dates.hidden || (choice.from && choice.to)) onChange(); // a range waits for its days
  })), dates];
}
const windowOf = (choice) => (choice.kind === "WINDOW_KIND_RANGE" ? { kind: choice.kind, from: choice.from, to: choice.to } : { kind: choice.kind });

// What Benchmark ranks by (docs/STATISTICS.md): level variables, counters, badge statistics.
const STATISTICS = [
  ["level variables", ["answers", "chats", "calls", "worktime", "rewards", "punishments", "not_ranked", "rewards_p", "punishments_p", "not_ranked_p",
    "answers_ph", "chats_ph", "chat_answers_ph", "calls_ph", "call_seconds", "call_seconds_ph", "chat_answers", "missed_chats", "missed_calls"]],
  ["badge statistics", ["mean_answer_wait", "mean_chat_pickup", "mean_resolution", "online_seconds", "paused_seconds", "pauses_started", "longest_chat",
    "longest_call", "longest_answer", "tickets_tagged", "transfers", "positive_ratings", "negative_ratings", "resolutions_and_deletions"]],
  ["counters", ["handled", "resolved", "deleted", "pauses", "pause_ms", "online_ms", "work_ms", "call_ms", "answer_chars", "chats_ended", "calls_ended",
    "first_answers", "resolutions", "answer_waits", "chat_pickups"]],
];
// Statistics where less is better: ranked lowest first unless the user says otherwise.
const LESS_IS_BETTER = /^mean_|^punishments|^missed_|^negative_|^pause|^paused_/;

// ---------- leaderboard and benchmarks ----------

const benchmarkChoice = { statistic: "answers", window: { kind: "WINDOW_KIND_LAST_7_DAYS", from: "", to: "" }, department: "", order: "" };

async function leaderboardPage() {
  const board = await call("LevelService", "GetLeaderboard", { limit: 100 });
  const rows = (board.rows || []).map((r) => [r.place, agentLink(r.agentId, r.name), `${r.level.rank}. ${r.level.name}`, dateTime(r.reachedAt)]);
  const benchmark = el("div", { id: "benchmark" });
  const redraw = () => drawBenchmark(benchmark).catch((err) => benchmark.replaceChildren(el("p", { class: "error" }, err.message)));
  const statistics = el("select", { id: "benchmark-statistic", on: { change: (e) => { benchmarkChoice.statistic = e.target.value; benchmarkChoice.order = ""; redraw(); } } },
    STATISTICS.map(([group, names]) => el("optgroup", { label: group }, names.map((n) => el("option", { value: n, selected: n === benchmarkChoice.statistic }, human(n))))));
  show(el("div", { class: "grid" },
    el("section", { class: "card" }, el("h1", {}, "Leaderboard"), el("p", { class: "muted" }, "Agents by level, then by who reached it first."),
      table("leaderboard", ["place", "agent", "level", "reached"], rows)),
    el("section", { class: "card" }, el("h1", {}, "Benchmark"), el("div", { class: "controls" },
      labelled("statistic", statistics),
      labelled("order", select("benchmark-order", [["", "best first"], ["highest", "highest first"], ["lowest", "lowest first"]], benchmarkChoice.order, (v) => { benchmarkChoice.order = v; redraw(); })),
      labelled("department", select("benchmark-department", departmentOptions("everyone"), benchmarkChoice.department, (v) => { benchmarkChoice.department = v; redraw(); })),
      windowControls("benchmark-window", benchmarkChoice.window, redraw)),
      benchmark)));
  await drawBenchmark(benchmark);
}

async function drawBenchmark(into) {
  const { statistic: stat, window, department, order } = benchmarkChoice;
  const ascending = order ? order === "lowest" : LESS_IS_BETTER.test(stat);
  const answer = await call("StatsService", "Benchmark", { statistic: stat, window: windowOf(window), departmentId: department, ascending, limit: 20 });
  const span = answer.from ? `${day(answer.from)} to ${day(answer.to)}` : "all time";
  const samples = stat.startsWith("mean_");
  into.replaceChildren(el("p", { class: "muted" }, `${human(stat)}, ${ascending ? "lowest" : "highest"} first, ${span}.`),
    table("benchmark-table", ["place", "agent", { label: human(stat), num: true }, { label: samples ? "samples" : "", num: true }],
      (answer.rows || []).map((r) => [r.place, agentLink(r.agentId, r.name), statistic(stat, r.value), samples ? number(r.sample) : ""])));
}

// ---------- one agent ----------

const agentWindow = { kind: "WINDOW_KIND_LAST_7_DAYS", from: "", to: "" };

async function agentPage(agentId) {
  const [level, progress, badges, roster, allBadges] = await Promise.all([
    call("LevelService", "GetAgentLevel", { agentId }),
    call("LevelService", "GetLevelProgress", { agentId }),
    call("BadgeService", "GetAgentBadges", { agentId, limit: 50 }),
    call("RosterService", "GetAgent", { agentId }),
    call("BadgeService", "ListBadges"),
  ]);
  const agent = roster.agent || {};
  const current = level.level ? `${level.level.level.rank}. ${level.level.level.name}` : "none yet";
  const parts = (progress.parts || []).map((p) => [
    el("code", {}, p.condition),
    el("span", { class: p.holds ? "holds" : "misses" }, p.holds ? "holds" : "not yet"),
    p.current !== undefined && p.target !== undefined ? `${number(p.current)} of ${number(p.target)}` : readsNow(p),
    stillMissing(p),
  ]);
  const next = progress.next
    ? el("div", {}, el("p", {}, "Next: ", el("b", {}, `${progress.next.rank}. ${progress.next.name}`), " when ", el("code", {}, progress.next.condition)),
      table("progress", ["part", "now", "values", "still missing"], parts))
    : el("p", {}, "At the top of the ladder.");
  const statsBox = el("div", { id: "agent-stats" });
  const holding = (badges.holding || []).map((s) => {
    const e = s.current || {};
    const mine = (e.holders || []).find((h) => h.agentId === agentId) || {};
    return [s.badge.name, badgeValue(s.badge, mine.value ?? e.value), `${day(e.windowFrom)} – ${day(e.windowTo)}`, badgeValue(s.badge, e.runnerUp), number(e.competitors)];
  });
  const badgeNames = new Map((allBadges.badges || []).map((s) => [s.badge.key, s.badge]));
  const history = (badges.history || []).map((e) => {
    const mine = (e.holders || []).find((h) => h.agentId === agentId) || {};
    const badge = badgeNames.get(e.badgeKey) || { name: e.badgeKey };
    return [day(e.day), badge.name, badgeValue(badge, mine.value ?? e.value), `${day(e.windowFrom)} – ${day(e.windowTo)}`, badgeValue(badge, e.runnerUp)];
  });
  show(el("section", { class: "card" },
      el("h1", { id: "agent-name" }, level.name || agent.name || nameOf(agentId)),
      el("p", {}, el("span", { class: `presence ${(agent.presence || "").replace("PRESENCE_", "")}` }), presence(agent),
        " · ", agent.roleName || "", " · ", (agent.departments || []).map((d) => d.name).join(", ") || "no department")),
    el("div", { class: "grid" },
      el("section", { class: "card" }, el("h2", {}, "Level"), el("p", { id: "agent-level" }, "Level ", el("b", {}, current),
        level.level ? ` since ${dateTime(level.level.reachedAt)}` : ""), next),
      el("section", { class: "card" }, el("h2", {}, "Statistics"), el("div", { class: "controls" },
        windowControls("agent-window", agentWindow, () => drawAgentStats(agentId, statsBox).catch((err) => statsBox.replaceChildren(el("p", { class: "error" }, err.message))))), statsBox)),
    el("section", { class: "card" }, el("h2", {}, "Badges held"),
      holding.length ? table("badges-held", ["badge", "value", "window", "runner-up", { label: "competitors", num: true }], holding) : el("p", { class: "muted" }, "None now.")),
    el("section", { class: "card" }, el("h2", {}, "Badge history"),
      history.length ? table("badge-history", ["day", "badge", "value", "window", "runner-up"], history) : el("p", { class: "muted" }, "No badge yet.")));
  await drawAgentStats(agentId, statsBox);
}

const SHOWN_VARIABLES = ["answers", "chats", "calls", "worktime", "rewards", "punishments", "not_ranked", "rewards_p", "punishments_p", "answers_ph", "chats_ph", "call_seconds", "missed_chats", "missed_calls"];
async function drawAgentStats(agentId, into) {
  const stats = await call("StatsService", "GetAgentStats", { agentId, window: windowOf(agentWindow) });
  const variables = stats.variables || {};
  const span = stats.from ? `${day(stats.from)} to ${day(stats.to)}` : "all time";
  into.replaceChildren(el("p", { class: "muted" }, span),
    table("stats", ["statistic", { label: "value", num: true }], SHOWN_VARIABLES.map((v) => [human(v), statistic(v, variables[v])])));
}

// The variables a part of a condition reads, with their values now.
const readsNow = (p) => Object.entries(p.values || {}).map(([name, value]) => `${human(name)} ${statistic(name, value)}`).join(", ");

// What a part of the next level's condition still misses: the API's figure for a
// comparison with a number; for alternatives of sums reaching a number
// (`$answers >= 250 || $chats >= 250`), what each alternative misses.
function stillMissing(p) {
  if (p.holds) return "";
  if (p.missing !== undefined) return number(p.missing);
  const values = p.values || {};
  const ways = p.condition.replace(/^\((.*)\)$/, "$1").split("||").map((alternative) => {
    const m = alternative.trim().match(/^((?:\$\w+\s*\+\s*)*\$\w+)\s*(>=|>)\s*([\d.]+)$/);
    if (!m) return null;
    const names = m[1].split("+").map((v) => v.trim().slice(1));
    const short = num(m[3]) - names.reduce((sum, n) => sum + num(values[n]), 0) + (m[2] === ">" ? 1 : 0);
    return `${number(Math.max(0, short))} more ${names.map(human).join(" + ")}`;
  });
  return ways.every(Boolean) ? ways.join(", or ") : "";
}

function presence(agent) {
  const where = (agent.presence || "PRESENCE_OFFLINE").replace("PRESENCE_", "").toLowerCase();
  return agent.since ? `${where} since ${dateTime(agent.since)}` : where;
}

// ---------- today's badges ----------

async function badgesPage() {
  const answer = await call("BadgeService", "ListBadges");
  const rows = (answer.badges || []).filter((s) => s.badge.enabled).map((s) => {
    const e = s.current;
    if (!e) return [s.badge.name, "not evaluated yet", "", "", ""];
    const holders = (e.holders || []).map((h) => agentLink(h.agentId));
    return [el("span", { title: s.badge.description }, s.badge.name),
      holders.length ? holders.flatMap((h, i) => (i ? [", ", h] : [h])) : el("span", { class: "muted" }, "nobody"),
      badgeValue(s.badge, e.value), `${day(e.windowFrom)} – ${day(e.windowTo)}`, badgeValue(s.badge, e.runnerUp)];
  });
  const latest = (answer.badges || []).map((s) => s.current && s.current.day).filter(Boolean).sort().pop();
  show(el("section", { class: "card" }, el("h1", {}, "Today's badges"),
    el("p", { class: "muted" }, latest ? `Awarded at the midnight starting ${day(latest)} (${org.timeZone}).` : "No badge has been evaluated yet."),
    table("badges", ["badge", "holders", "value", "window", "runner-up"], rows.map((r) => r.map((c) => (Array.isArray(c) ? el("span", {}, c) : c))))));
}

// ---------- the department report ----------

const BUCKETS = [["REPORT_BUCKET_HOUR", "hour"], ["REPORT_BUCKET_DAY", "day"], ["REPORT_BUCKET_WEEK", "week"], ["REPORT_BUCKET_MONTH", "month"], ["REPORT_BUCKET_YEAR", "year"], ["REPORT_BUCKET_RANGE", "whole range"]];
const GROUPS = [["REPORT_GROUP_UNSPECIFIED", "nothing"], ["REPORT_GROUP_DEPARTMENT", "department"], ["REPORT_GROUP_AGENT", "agent"], ["REPORT_GROUP_CHANNEL", "channel"], ["REPORT_GROUP_TAG", "tag"]];
const CHANNELS = ["", "EMAIL", "CHAT", "CALL", "WEB_FORM", "FACEBOOK", "TWITTER", "INSTAGRAM", "VIBER", "WHATSAPP", "API"];
const KINDS = [["area", "area"], ["line", "line"], ["bar", "bar"], ["pie", "pie"]];
const report = { from: "", to: "", bucket: "REPORT_BUCKET_DAY", group: "REPORT_GROUP_DEPARTMENT", department: "", agent: "", channel: "", sortBy: "", ascending: false, column: "answers", kind: "area" };

function reportRequest() {
  return { from: report.from, to: report.to, bucket: report.bucket, groupBy: report.group, departmentId: report.department, agentId: report.agent,
    channel: report.channel ? `CHANNEL_${report.channel}` : "CHANNEL_UNSPECIFIED", sortBy: report.sortBy, ascending: report.ascending };
}

async function reportPage() {
  if (!report.from) {
    // Today (the day of the latest event in the log) and the 7 days before: after a
    // simulated week that ended at midnight, today holds little and the week is all there.
    const week = await call("StatsService", "Benchmark", { statistic: "answers", window: { kind: "WINDOW_KIND_LAST_7_DAYS" }, limit: 1 });
    const from = new Date(`${week.from}T00:00:00Z`);
    from.setUTCDate(from.getUTCDate() - 1);
    report.from = from.toISOString().slice(0, 10); report.to = week.to;
  }
  const body = el("div", { id: "report-body" });
  const redraw = (key) => (value) => { report[key] = value; drawReport(body).catch(failed); };
  const agents = [["", "any agent"], ...[...org.names].sort((a, b) => a[1].localeCompare(b[1]))];
  show(el("section", { class: "card" }, el("h1", {}, "Department report"),
    el("div", { class: "controls" },
      labelled("from", el("input", { id: "report-from", type: "date", value: report.from, on: { change: (e) => redraw("from")(e.target.value) } })),
      labelled("to", el("input", { id: "report-to", type: "date", value: report.to, on: { change: (e) => redraw("to")(e.target.value) } })),
      labelled("buckets", select("report-bucket", BUCKETS, report.bucket, redraw("bucket"))),
      labelled("group by", select("report-group", GROUPS, report.group, redraw("group"))),
      labelled("department", select("report-department", departmentOptions("any department"), report.department, redraw("department"))),
      labelled("agent", select("report-agent", agents, report.agent, redraw("agent"))),
      labelled("channel", select("report-channel", CHANNELS.map((c) => [c, c ? c.toLowerCase().replace("_", " ") : "any channel"]), report.channel, redraw("channel"))),
      el("button", { id: "report-csv", type: "button", on: { click: () => downloadCsv().catch(failed) } }, "Download CSV")),
    body));
  await drawReport(body);
}

async function drawReport(into) {
  const [answer, chart] = await Promise.all([
    call("ReportService", "GetReport", reportRequest()),
    call("ReportService", "GetChartSeries", { report: reportRequest(), column: report.column }),
  ]);
  const columns = answer.columns || [];
  const sortHeader = (name) => el("button", { type: "button", class: "sort", "data-column": name, on: { click: () => {
    report.ascending = report.sortBy === name ? !report.ascending : false; report.sortBy = name; drawReport(into).catch(failed);
  } } }, human(name), report.sortBy === name ? (report.ascending ? " ▲" : " ▼") : "");
  const chartBox = el("div", { id: "chart" });
  into.replaceChildren(
    el("div", { class: "controls" },
      labelled("chart column", select("chart-column", columns.map((c) => [c, human(c)]), report.column, (v) => { report.column = v; drawReport(into).catch(failed); })),
      labelled("chart kind", select("chart-kind", KINDS, report.kind, (v) => { report.kind = v; drawChart(chartBox, chart); }))),
    chartBox,
    table("report-table", [{ label: "bucket" }, { label: "group" }, ...columns.map((c) => ({ label: sortHeader(c), num: true }))],
      (answer.rows || []).map((r) => [r.bucket, r.group, ...columns.map((c, i) => cell(columns, r.values || [], i))])));
  drawChart(chartBox, chart);
}

// ExportReportCsv, streamed, saved as a file.
async function downloadCsv() {
  const pieces = [];
  await stream("ReportService", "ExportReportCsv", reportRequest(), (chunk) => pieces.push(Uint8Array.from(atob(chunk.data || ""), (c) => c.charCodeAt(0))));
  const link = el("a", { href: URL.createObjectURL(new Blob(pieces, { type: "text/csv" })), download: `report-${report.from}-to-${report.to}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
}

// ---------- charts: inline SVG ----------

const COLORS = ["#2f6fde", "#e67e22", "#1e8e4f", "#c0392b", "#8e44ad", "#16a085", "#d4ac0d", "#7f8c8d", "#e84393", "#2c3e50"];
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function drawChart(into, chart) {
  const series = (chart.series || []).slice(0, COLORS.length);
  const buckets = chart.buckets || [];
  const width = 1000, height = 260, left = 60, bottom = 40, top = 10;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height + bottom}`, width: "100%", "data-kind": report.kind, role: "img" });
  const unit = (v) => column(chart.column || report.column, v);
  if (report.kind === "pie") {
    const total = series.reduce((sum, s) => sum + num(s.total), 0) || 1;
    let angle = -Math.PI / 2;
    const cx = width / 2, cy = (height + bottom) / 2, r = (height + bottom) / 2 - 10;
    series.forEach((s, i) => {
      const sweep = (num(s.total) / total) * 2 * Math.PI;
      if (sweep >= 2 * Math.PI - 1e-9) { root.append(svg("circle", { cx, cy, r, fill: COLORS[i] })); return; }
      const [x1, y1, x2, y2] = [cx + r * Math.cos(angle), cy + r * Math.sin(angle), cx + r * Math.cos(angle + sweep), cy + r * Math.sin(angle + sweep)];
      root.append(svg("path", { d: `M${cx},${cy} L${x1},${y1} A${r},${r} 0 ${sweep > Math.PI ? 1 : 0} 1 ${x2},${y2} Z`, fill: COLORS[i] }, svg("title", {}, `${s.group}: ${unit(s.total)}`)));
      angle += sweep;
    });
  } else {
    const max = Math.max(1e-9, ...series.flatMap((s) => (s.values || []).map(num)));
    // Room on both sides for the first and last bucket's label.
    const x = (i) => left + 40 + (buckets.length <= 1 ? (width - left - 80) / 2 : (i * (width - left - 80)) / (buckets.length - 1));
    const y = (v) => top + height - (num(v) / max) * (height - top);
    for (const f of [0, 0.5, 1]) {
      root.append(svg("line", { x1: left, x2: width, y1: y(max * f), y2: y(max * f), stroke: "#e3e6ec" }), svg("text", { x: left - 6, y: y(max * f) + 4, "text-anchor": "end" }, unit(max * f)));
    }
    const every = Math.ceil(buckets.length / 12);
    buckets.forEach((b, i) => { if (i % every === 0) root.append(svg("text", { x: x(i), y: height + 25, "text-anchor": "middle" }, b)); });
    series.forEach((s, k) => {
      const values = s.values || [];
      if (report.kind === "bar") {
        const slot = (width - left) / Math.max(1, buckets.length), bar = (slot * 0.8) / series.length;
        values.forEach((v, i) => root.append(svg("rect", { x: left + i * slot + slot * 0.1 + k * bar, y: y(v), width: Math.max(1, bar - 1), height: top + height - y(v), fill: COLORS[k] },
          svg("title", {}, `${s.group}, ${buckets[i]}: ${unit(v)}`))));
      } else {
        const points = values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
        if (report.kind === "area") root.append(svg("polygon", { points: `${x(0)},${y(0)} ${points} ${x(values.length - 1)},${y(0)}`, fill: COLORS[k], "fill-opacity": 0.18 }));
        root.append(svg("polyline", { points, fill: "none", stroke: COLORS[k], "stroke-width": 2 }, svg("title", {}, s.group)));
      }
    });
  }
  const legend = el("div", { class: "legend" }, series.map((s, i) => {
    const swatch = el("i");
    swatch.style.background = COLORS[i];
    return el("span", {}, swatch, report.kind === "pie" ? `${s.group}: ${unit(s.total)}` : s.group);
  }));
  into.replaceChildren(el("p", { class: "muted" }, `${human(chart.column || report.column)} by ${BUCKETS.find((b) => b[0] === report.bucket)[1]}`), root, legend);
}

// ---------- the roster ----------

async function rosterPage() {
  const answer = await call("RosterService", "ListAgents", {});
  const rows = (answer.agents || []).map((a) => [
    el("span", {}, el("span", { class: `presence ${(a.presence || "").replace("PRESENCE_", "")}` }), agentLink(a.agentId, a.name)),
    presence(a), a.pause && a.pause.reason ? a.pause.reason : (a.pause && a.pause.autoMissed ? "missed a conversation" : ""),
    a.roleName, (a.departments || []).map((d) => d.name).join(", "), a.levelName || "—",
    number((a.openChatIds || []).length), number((a.openCallIds || []).length), dateTime(a.lastActivity)]);
  show(el("section", { class: "card" }, el("h1", {}, "Roster"),
    table("roster", ["agent", "presence", "pause", "role", "departments", "level", { label: "open chats", num: true }, { label: "open calls", num: true }, "last activity"], rows)));
}

// ---------- live toasts ----------

// At most this many toasts at once: a midnight's awards come together.
const MAX_TOASTS = 5;
function toast(...content) {
  const node = el("div", { class: "toast" }, ...content);
  const toasts = document.getElementById("toasts");
  toasts.append(node);
  while (toasts.children.length > MAX_TOASTS) toasts.firstChild.remove();
  setTimeout(() => node.remove(), 15000);
}

let watching = null;
let rosterRedraw = null;
// Follows a stream for as long as the tab is signed in, reconnecting after a break.
function follow(service, method, onMessage, signal) {
  const again = () => { if (!signal.aborted) setTimeout(() => follow(service, method, onMessage, signal), 3000); };
  stream(service, method, {}, onMessage, signal).then(again, again);
}

function watchEvents() {
  watching = new AbortController();
  follow("LevelService", "WatchLevelUps", async (e) => {
    toast("Level up: ", el("b", {}, await nameOfNew(e.agentId, e.position)), ` reached ${e.level.rank}. ${e.level.name}`);
  }, watching.signal);
  follow("BadgeService", "WatchAwards", async (e) => {
    toast("Badge: ", el("b", {}, await nameOfNew(e.agentId)), ` was awarded ${e.badge.name}`);
  }, watching.signal);
  follow("RosterService", "WatchPresence", (e) => {
    org.names.set(e.agentId, e.name);
    // The roster is drawn again at most once a second: a busy morning brings many changes.
    if (location.hash.startsWith("#/roster") && !rosterRedraw) {
      rosterRedraw = setTimeout(() => { rosterRedraw = null; if (location.hash.startsWith("#/roster")) route(); }, 1000);
    }
  }, watching.signal);
}

// ---------- routing and signing in ----------

const PAGES = { leaderboard: leaderboardPage, agent: agentPage, badges: badgesPage, report: reportPage, roster: rosterPage };

async function route() {
  const [name, arg] = location.hash.replace(/^#\/?/, "").split("/");
  const pageName = PAGES[name] ? name : "leaderboard";
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === pageName);
  try {
    await PAGES[pageName](arg);
    document.body.dataset.page = pageName;
  } catch (err) {
    if (err.code === "unauthenticated") return signOut(err.message);
    failed(err);
  }
}

async function signIn() {
  try {
    await loadOrganization();
  } catch (err) {
    return signOut(err.code === "unauthenticated" ? "This token does not sign in: check it, or ask the Owner for a new one." : err.message);
  }
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("who").textContent = `times in ${org.timeZone}`;
  watchEvents();
  await route();
}

function signOut(message = "") {
  sessionStorage.removeItem("helpdesk-token");
  token = "";
  if (watching) watching.abort();
  document.getElementById("sign-in").hidden = false;
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("sign-in-error").textContent = message;
  page().replaceChildren();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in").addEventListener("submit", (e) => {
    e.preventDefault();
    token = document.getElementById("token").value.trim();
    sessionStorage.setItem("helpdesk-token", token);
    signIn();
  });
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", () => { if (token) route(); });
  if (token) signIn(); else signOut();
});

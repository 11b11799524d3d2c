// The Switchboard local console. Every piece of data reaches the page through
// textContent / attributes of created elements: never as HTML.
const MAX_ROWS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const state = { overview: null, rows: [], filters: {}, counts: {}, tab: "topology", dlTimer: null };

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "data") for (const [k, v] of Object.entries(value)) node.dataset[k] = v;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

async function api(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const response = await fetch(path + (query.toString() ? "?" + query : ""));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function post(path, document) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(document),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// Each view shows the answer to its latest request only. An answer that arrives after a
// newer request for the same view (the user chose again, a timer fired) is dropped, so a
// slow answer for the previous choice never replaces the current one.
const latestRequest = {};
function ticket(view) {
  const mine = (latestRequest[view] = (latestRequest[view] || 0) + 1);
  return () => latestRequest[view] === mine;
}

const json = (value) => JSON.stringify(value, null, 2);
const short = (id) => (id ? String(id).slice(0, 8) : "-");
const clock = (iso) => (iso ? new Date(iso).toISOString().slice(11, 23) : "");

function describe(row) {
  const status = row.status !== null && row.status !== undefined ? ` (${row.status})` : "";
  if (row.outcome === "retry") return `retry ${row.attempt}${row.detail ? " " + row.detail : ""}${status}`;
  if (row.outcome === "dead-lettered") return `dead-lettered after ${row.attempt}${status}${row.detail ? ": " + row.detail : ""}`;
  if (row.outcome === "acked" && row.agent_outcome === "dead_lettered") return `acked${status}, dead-lettered by the agent: ${row.detail || ""}`;
  if (row.outcome === "acked") return `acked${status}`;
  return row.detail ? `${row.outcome} ${row.detail}` : row.outcome;
}

function error(target, problem) {
  target.replaceChildren(el("p", { class: "error" }, String(problem.message || problem)));
}

// -- tabs ---------------------------------------------------------------------------------

function show(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll("#tabs button"))
    button.classList.toggle("active", button.dataset.tab === tab);
  for (const section of document.querySelectorAll(".tab"))
    section.classList.toggle("active", section.id === "tab-" + tab);
  clearInterval(state.dlTimer);
  if (tab === "deadletters") {
    loadDeadLetters();
    state.dlTimer = setInterval(loadDeadLetters, 5000);
  }
  if (tab === "data") loadData();
}

// -- topology -----------------------------------------------------------------------------

async function drawGraph() {
  const graph = await api("/api/graph");
  const root = svg("svg", { viewBox: `0 0 ${Math.ceil(graph.width)} ${Math.ceil(graph.height)}`, id: "graph-svg" });
  const defs = svg("defs");
  for (const kind of new Set(graph.edges.map((e) => e.kind))) {
    const colour = graph.edges.find((e) => e.kind === kind).colour;
    const marker = svg("marker", { id: "arrow-" + kind, viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour }));
    defs.append(marker);
  }
  root.append(defs);
  for (const edge of graph.edges) {
    const attrs = { d: edge.path, fill: "none", stroke: edge.colour, "stroke-width": 1.4,
      "marker-end": `url(#arrow-${edge.kind})`, class: "edge edge-" + edge.kind };
    if (edge.dash) attrs["stroke-dasharray"] = edge.dash;
    root.append(svg("path", attrs));
  }
  for (const edge of graph.edges) {
    if (!edge.key) continue;
    const label = svg("text", { x: edge.label_x, y: edge.label_y - 4, "text-anchor": "middle",
      class: "edge-label", fill: edge.colour, "data-key": edge.key, "data-kind": edge.kind }, edge.label);
    const counts = svg("text", { x: edge.label_x, y: edge.label_y + 8, "text-anchor": "middle",
      class: "edge-count", fill: edge.colour, "data-key": edge.key, "data-kind": edge.kind }, "");
    root.append(label, counts);
  }
  for (const node of graph.nodes) {
    const rx = ["topic", "dead-letter", "ingress"].includes(node.kind) ? 22 : 6;
    const group = svg("g", { class: "node node-" + node.kind, "data-id": node.id });
    group.append(svg("rect", { x: node.x - node.width / 2, y: node.y - node.height / 2, width: node.width,
      height: node.height, rx, fill: node.fill, stroke: node.stroke, "stroke-width": 1.5 }));
    group.append(svg("text", { x: node.x, y: node.y + (node.detail ? -2 : 4), "text-anchor": "middle",
      class: "node-label" }, node.label));
    if (node.detail) group.append(svg("text", { x: node.x, y: node.y + 13, "text-anchor": "middle",
      class: "node-detail" }, node.detail));
    root.append(group);
  }
  document.getElementById("graph").replaceChildren(root);
  renderCounts();
}

function countText(kind, c) {
  const n = (name) => c[name] || 0;
  if (kind === "subscribe")
    return `d ${n("delivered")} · a ${n("acked")} · r ${n("retried")} · f ${n("filtered_out")} · dl ${n("dead_lettered")}`;
  if (kind === "dead-letter") return `dl ${n("dead_lettered")}`;
  if (kind === "schedule") return `ticks ${n("published")}`;
  return "";
}

function renderCounts() {
  for (const text of document.querySelectorAll("text.edge-count"))
    text.textContent = countText(text.dataset.kind, state.counts[text.dataset.key] || {});
  if (!state.overview) return;
  const body = document.querySelector("#counts tbody");
  body.replaceChildren(...state.overview.subscriptions.map((s) => {
    const c = state.counts[s.subscription] || {};
    return el("tr", { data: { subscription: s.subscription } },
      el("td", {}, s.subscription), el("td", {}, s.agent),
      ...["delivered", "acked", "retried", "filtered_out", "dead_lettered"].map(
        (k) => el("td", { class: "num", data: { count: k } }, c[k] || 0)));
  }));
}

// -- deliveries ---------------------------------------------------------------------------

function matches(row) {
  const f = state.filters;
  return (!f.agent || row.agent === f.agent) && (!f.type || row.event_type === f.type)
    && (!f.outcome || row.outcome === f.outcome) && (!f.correlation || row.correlation_id === f.correlation);
}

function deliveryRow(row) {
  return el("tr", { class: "outcome-" + row.outcome.replace(/\W+/g, "-"),
      data: { seq: row.seq, event: row.event_id, message: row.message_id, agent: row.agent, outcome: row.outcome },
      onclick: () => openMessage(row.message_id || row.event_id) },
    el("td", {}, clock(row.at)), el("td", {}, row.agent), el("td", {}, row.event_type || "-"),
    el("td", { title: row.event_id }, short(row.event_id)), el("td", {}, describe(row)),
    el("td", { class: "num" }, row.attempt || ""),
    el("td", { class: "num" }, row.latency_ms !== null && row.latency_ms !== undefined ? Math.round(row.latency_ms) + " ms" : ""));
}

function renderDeliveries() {
  const body = document.querySelector("#deliveries tbody");
  body.replaceChildren(...state.rows.slice(-MAX_ROWS).reverse().map(deliveryRow));
}

function addRows(rows) {
  const fresh = rows.filter(matches);
  if (!fresh.length) return;
  state.rows.push(...fresh);
  if (state.rows.length > MAX_ROWS) state.rows.splice(0, state.rows.length - MAX_ROWS);
  const body = document.querySelector("#deliveries tbody");
  for (const row of fresh) body.prepend(deliveryRow(row));
  while (body.children.length > MAX_ROWS) body.lastChild.remove();
}

async function applyFilters(event) {
  if (event) event.preventDefault();
  const form = new FormData(document.getElementById("filters"));
  state.filters = Object.fromEntries([...form.entries()].filter(([, v]) => v));
  const current = ticket("deliveries");
  const found = await api("/api/deliveries", { ...state.filters, limit: MAX_ROWS });
  if (!current()) return;
  state.rows = found.rows;
  renderDeliveries();
}

async function openMessage(id) {
  const target = document.getElementById("message");
  const current = ticket("message");
  try {
    const found = await api("/api/message", { id });
    if (!current()) return;
    const parts = [];
    for (const message of found.messages) {
      parts.push(el("h3", {}, `${message.type || "message"} on ${message.topic}`),
        el("dl", {}, el("dt", {}, "message id"), el("dd", {}, message.message_id),
          el("dt", {}, "event id"), el("dd", {}, message.event_id),
          el("dt", {}, "correlation id"), el("dd", {}, message.correlation_id || "-"),
          el("dt", {}, "published"), el("dd", {}, message.publish_time)),
        el("h4", {}, "attributes"), el("pre", { class: "attributes" }, json(message.attributes)),
        el("h4", {}, `data (${message.data_kind}, ${message.size} bytes${message.truncated ? ", truncated" : ""})`),
        el("pre", { class: "data" }, typeof message.data === "string" ? message.data : json(message.data)),
        el("button", { type: "button", onclick: () => openStory(message.correlation_id || message.event_id) }, "Open its story"));
    }
    parts.push(el("h4", {}, "delivery attempts"), el("table", { class: "attempts" },
      el("thead", {}, el("tr", {}, ["time", "agent", "attempt", "outcome", "status", "latency"].map((h) => el("th", {}, h)))),
      el("tbody", {}, found.attempts.map((a) => el("tr", {}, el("td", {}, clock(a.at)), el("td", {}, a.agent),
        el("td", {}, a.attempt), el("td", {}, describe(a)), el("td", {}, a.status ?? ""),
        el("td", {}, a.latency_ms != null ? Math.round(a.latency_ms) + " ms" : ""))))));
    target.replaceChildren(...parts);
  } catch (problem) { if (current()) error(target, problem); }
}

// -- story --------------------------------------------------------------------------------

function openStory(id) {
  document.getElementById("story-id").value = id;
  show("story");
  loadStory();
}

function storyItem(entry) {
  const item = entry.item;
  let summary;
  if (entry.kind === "published") summary = `${item.type} published on ${item.topic} (event ${short(item.event_id)}, caused by ${short(item.causation_id)})`;
  else if (entry.kind === "delivery") summary = `${item.agent}: ${item.event_type} ${describe(item)}`;
  else if (entry.kind === "dead-letter") summary = `dead letter on ${item.dead_letter_subscription}: ${item.reason}`;
  else if (entry.kind === "document") summary = `Firestore ${item.path}`;
  else summary = `${item.service} ${item.method} ${item.path} -> ${item.status ?? "no answer"}`;
  const detail = entry.kind === "call" ? item.body : json(entry.kind === "document" ? item.fields : item);
  return el("li", { class: "story-" + entry.kind, data: { kind: entry.kind, service: item.service || "" } },
    el("span", { class: "when" }, clock(entry.at)), el("span", { class: "badge" }, entry.kind), " ", summary,
    el("details", {}, el("summary", {}, "details"), el("pre", {}, detail)));
}

function storyFilter() {
  const words = document.getElementById("story-search").value.trim().toLowerCase();
  let shown = 0;
  for (const item of document.querySelectorAll("#timeline li")) {
    const keep = !words || item.textContent.toLowerCase().includes(words);
    item.hidden = !keep;
    shown += keep ? 1 : 0;
  }
  document.getElementById("story-search-count").textContent = words ? `${shown} of the list` : "";
}

async function loadStory(event) {
  if (event) event.preventDefault();
  const target = document.getElementById("story");
  const id = document.getElementById("story-id").value.trim();
  if (!id) return;
  target.replaceChildren(el("p", { class: "hint" }, "following…"));
  const current = ticket("story");
  try {
    const story = await api("/api/story", { id });
    if (!current()) return;
    const c = story.counts;
    state.story = story;
    target.replaceChildren(
      el("p", { id: "story-summary" }, `${c.events} events, ${c.deliveries} deliveries, ${c.dead_letters} dead letters, `
        + `${c.documents} Firestore documents, ${c.calls} third-party calls; correlation ${story.correlation_ids.join(", ") || "-"}`),
      el("div", { id: "story-picture-box" }, drawStoryPicture(story.picture, story.timeline)),
      storyLegend(),
      el("div", { id: "story-picked" }, el("p", { class: "hint" }, "Click a bar or a mark to open its details.")),
      el("h3", {}, "Events"),
      el("table", { id: "story-events" }, el("thead", {}, el("tr", {}, ["event", "type", "caused by", "deliveries"].map((h) => el("th", {}, h)))),
        el("tbody", {}, story.events.map((e) => el("tr", {}, el("td", { title: e.event_id }, short(e.event_id)), el("td", {}, e.type),
          el("td", { title: e.causation_id }, short(e.causation_id)),
          el("td", {}, e.deliveries.map((d) => `${d.agent}: ${d.outcome}${d.attempt ? " #" + d.attempt : ""}`).join("; ")))))),
      el("h3", {}, "Everything, in time order"),
      el("div", { class: "row" }, el("label", {}, "search the list",
        el("input", { id: "story-search", type: "search", size: 40, maxlength: 200, oninput: storyFilter })),
        el("span", { id: "story-search-count", class: "hint" })),
      el("ol", { id: "timeline" }, story.timeline.map((entry, index) => {
        const item = storyItem(entry);
        item.dataset.entry = index;
        return item;
      })));
  } catch (problem) { if (current()) error(target, problem); }
}

// The story as a trace viewer draws it (localdev/console/story_picture.py lays it out in
// milliseconds; here it is scaled to pixels): a lane per agent, a bar per delivery, marks
// for publishes, Firestore writes, third-party calls and dead letters, arrows to follow-ups.
const LANE_LABEL = 130;
const ROW = 20;
const MARK_STRIP = 12;
const AXIS = 22;
const OUTCOME_COLOUR = { acked: "#34a853", retry: "#f29900", "dead-lettered": "#d93025", "duplicate injected": "#9aa0a6" };
const MARK_COLOUR = { published: "#1a73e8", document: "#e37400", call: "#9334e6", "dead-letter": "#d93025" };

function barColour(bar) {
  if (bar.outcome === "acked" && bar.agent_outcome === "dead_lettered") return OUTCOME_COLOUR["dead-lettered"];
  return OUTCOME_COLOUR[bar.outcome] || "#5f6368";
}

function markShape(mark, x, y) {
  const colour = MARK_COLOUR[mark.kind] || "#5f6368";
  if (mark.kind === "published") return svg("path", { d: `M${x},${y - 5} L${x + 5},${y} L${x},${y + 5} L${x - 5},${y} z`, fill: colour });
  if (mark.kind === "document") return svg("rect", { x: x - 3.5, y: y - 3.5, width: 7, height: 7, fill: colour });
  if (mark.kind === "call") return svg("circle", { cx: x, cy: y, r: 4, fill: colour });
  return svg("path", { d: `M${x - 4},${y - 4} L${x + 4},${y + 4} M${x + 4},${y - 4} L${x - 4},${y + 4}`, stroke: colour, "stroke-width": 2.5 });
}

function drawStoryPicture(picture, timeline) {
  const width = Math.max(900, (document.getElementById("story").clientWidth || 1400) - 4);
  const scale = (width - LANE_LABEL - 16) / Math.max(picture.span, 1);
  const x = (ms) => LANE_LABEL + ms * scale;
  const top = {};
  let y = AXIS;
  for (const lane of picture.lanes) {
    top[lane.name] = y;
    y += lane.rows * ROW + MARK_STRIP + 8;
  }
  const height = y + 4;
  const root = svg("svg", { id: "story-picture", viewBox: `0 0 ${width} ${height}`, width, height });
  const defs = svg("defs");
  const marker = svg("marker", { id: "story-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#3c4043" }));
  defs.append(marker);
  root.append(defs);
  picture.lanes.forEach((lane, index) => {
    const group = svg("g", { class: "lane lane-" + lane.kind, "data-lane": lane.name });
    const laneHeight = lane.rows * ROW + MARK_STRIP + 8;
    group.append(svg("rect", { x: 0, y: top[lane.name] - 4, width, height: laneHeight, fill: index % 2 ? "#ffffff" : "#f8f9fa", class: "lane-band" }));
    group.append(svg("text", { x: 8, y: top[lane.name] + 12, class: "lane-label" }, lane.name + (lane.kind === "outside" ? " (outside)" : "")));
    root.append(group);
  });
  for (const tick of picture.ticks) {
    root.append(svg("line", { x1: x(tick.x), x2: x(tick.x), y1: AXIS - 4, y2: height, class: "tick" }));
    root.append(svg("text", { x: x(tick.x), y: AXIS - 8, "text-anchor": "middle", class: "tick-label" }, tick.label));
  }
  for (const gap of picture.gaps) {
    root.append(svg("line", { x1: x(gap.x), x2: x(gap.x), y1: AXIS - 4, y2: height, class: "gap" }));
    root.append(svg("text", { x: x(gap.x), y: AXIS - 8, "text-anchor": "middle", class: "gap-label" }, `⋯ ${(gap.hidden_ms / 1000).toFixed(1)} s cut`));
  }
  const centre = {};
  for (const bar of picture.bars) {
    const bx = x(bar.x0);
    const bw = Math.max(2, x(bar.x1) - bx);
    const by = top[bar.lane] + bar.row * ROW;
    centre[bar.id] = { x0: bx, x1: bx + bw, y: by + (ROW - 4) / 2 };
    const latency = Math.round(bar.latency_ms) + " ms";
    const group = svg("g", { class: "bar", "data-id": bar.id, "data-lane": bar.lane, "data-event": bar.event_id, "data-type": bar.event_type,
      "data-outcome": bar.outcome, "data-latency": bar.latency_ms, "data-entry": bar.entry, tabindex: 0 });
    group.append(svg("title", {}, `${bar.lane}: ${bar.event_type} ${describe(timeline[bar.entry].item)}, ${latency}`));
    group.append(svg("rect", { x: bx, y: by, width: bw, height: ROW - 4, rx: 2, fill: barColour(bar) }));
    // The type and latency where they fit, else the latency alone (the rest is in the title).
    const label = [`${bar.event_type} · ${latency}`, latency].find((text) => bw > text.length * 5.6 + 6);
    if (label) group.append(svg("text", { x: bx + 4, y: by + ROW - 8, class: "bar-label" }, label));
    group.addEventListener("click", () => pickStoryEntry(bar.entry, group));
    root.append(group);
  }
  const markAt = {};
  for (const mark of picture.marks) {
    const lane = picture.lanes.find((l) => l.name === mark.lane);
    const my = top[mark.lane] + lane.rows * ROW + MARK_STRIP / 2 - 2;
    markAt[mark.id] = { x: x(mark.x), y: my };
    const group = svg("g", { class: "mark mark-" + mark.kind, "data-id": mark.id, "data-kind": mark.kind, "data-lane": mark.lane,
      "data-event": mark.event_id, "data-entry": mark.entry, tabindex: 0 });
    group.append(svg("title", {}, mark.label), markShape(mark, x(mark.x), my));
    group.addEventListener("click", () => pickStoryEntry(mark.entry, group));
    root.append(group);
  }
  for (const arrow of picture.arrows) {
    const to = centre[arrow.to];
    const from = arrow.kind === "follow-up" ? { x: x(arrow.at), y: centre[arrow.from].y } : markAt[arrow.from];
    if (!to || !from) continue;
    const bend = Math.max(12, Math.abs(to.x0 - from.x) / 2);
    root.append(svg("path", { d: `M${from.x},${from.y} C${from.x + bend},${from.y} ${to.x0 - bend},${to.y} ${to.x0},${to.y}`,
      class: "arrow arrow-" + arrow.kind, fill: "none", "marker-end": "url(#story-arrow)", "data-from": arrow.from, "data-to": arrow.to,
      "data-from-event": arrow.from_event, "data-to-event": arrow.to_event, "data-from-lane": arrow.from_lane, "data-to-lane": arrow.to_lane }));
  }
  return root;
}

function storyLegend() {
  const swatch = (colour, text, kind = null) => {
    const box = svg("svg", { width: 12, height: 10, class: "swatch" });
    box.append(kind ? markShape({ kind }, 6, 5) : svg("rect", { x: 0, y: 0, width: 12, height: 10, rx: 2, fill: colour }));
    return el("span", { class: "legend-item" }, box, " " + text);
  };
  const legend = el("p", { id: "story-legend", class: "hint" },
    swatch(OUTCOME_COLOUR.acked, "acked"), swatch(OUTCOME_COLOUR.retry, "retried"), swatch(OUTCOME_COLOUR["dead-lettered"], "dead-lettered"),
    " bars: a delivery, from the push to the agent's answer (its latency). ",
    swatch(null, "published", "published"), swatch(null, "Firestore write", "document"),
    swatch(null, "third-party call", "call"), swatch(null, "dead letter", "dead-letter"), " marks, on the lane of the agent that made them.",
    " Arrows: from the delivery that published an event to that event's deliveries. Filtered-out deliveries are in the list only.");
  return legend;
}

function pickStoryEntry(index, shape) {
  for (const picked of document.querySelectorAll("#story-picture .picked, #timeline li.picked")) picked.classList.remove("picked");
  if (shape) shape.classList.add("picked");
  const entry = state.story.timeline[index];
  const item = storyItem(entry);
  item.querySelector("details").open = true;
  const actions = [];
  if (entry.kind === "delivery" || entry.kind === "published")
    actions.push(el("button", { type: "button", onclick: () => { show("deliveries"); openMessage(entry.item.message_id || entry.item.event_id); } }, "Open its message"));
  document.getElementById("story-picked").replaceChildren(el("ul", { class: "picked-entry" }, item), ...actions);
  const listed = document.querySelector(`#timeline li[data-entry="${index}"]`);
  if (listed) listed.classList.add("picked");
}

// -- dead letters -------------------------------------------------------------------------

async function loadDeadLetters() {
  const status = document.getElementById("dl-status");
  const current = ticket("deadletters");
  try {
    const found = await api("/api/deadletters");
    if (!current()) return;
    status.textContent = `${found.total} dead letter(s), ${new Date().toLocaleTimeString()}`;
    document.querySelector("#dl-subscriptions tbody").replaceChildren(...state.overview.subscriptions.map((s) =>
      el("tr", { data: { subscription: s.subscription } }, el("td", {}, s.dead_letter_subscription), el("td", {}, s.agent),
        el("td", { class: "num" }, found.per_subscription[s.subscription] || 0),
        el("td", {}, el("button", { type: "button", class: "purge", onclick: () => askPurge(s.subscription) }, "Purge…")))));
    document.querySelector("#dl-letters tbody").replaceChildren(...found.letters.map((d) =>
      el("tr", { data: { message: d.message_id, event: d.event_id, subscription: d.source_subscription } },
        el("td", {}, d.source_subscription), el("td", {}, d.message_id), el("td", {}, d.type),
        el("td", { title: d.event_id }, short(d.event_id)), el("td", {}, d.reason), el("td", { class: "num" }, d.attempts),
        el("td", { class: "num" }, Math.round(d.age_seconds) + " s"),
        el("td", {}, el("button", { type: "button", class: "show", onclick: () => {
          document.getElementById("dl-detail").textContent = json({ attributes: d.attributes, data: d.data });
        } }, "Show"), " ",
        el("button", { type: "button", class: "redrive", onclick: () => redrive(d) }, "Redrive")))));
  } catch (problem) { if (current()) status.textContent = String(problem.message || problem); }
}

async function redrive(letter) {
  const status = document.getElementById("dl-result");
  try {
    const result = await post("/api/deadletters/redrive", { subscription: letter.source_subscription, message_ids: [letter.message_id] });
    status.textContent = result.redriven.map((r) => `redrove ${r.message_id} -> topic ${r.topic} for ${r.target_subscription} only`).join("; ") || "nothing redriven";
    status.dataset.result = "redriven";
  } catch (problem) { status.textContent = String(problem.message || problem); status.dataset.result = "error"; }
  loadDeadLetters();
}

function askPurge(subscription) {
  const dialog = document.getElementById("purge-dialog");
  document.getElementById("purge-name").textContent = subscription;
  document.getElementById("purge-confirm").value = "";
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "purge") return;
    const status = document.getElementById("dl-result");
    try {
      const result = await post("/api/deadletters/purge", { subscription, confirm: document.getElementById("purge-confirm").value });
      status.textContent = `purged ${result.purged} dead letter(s) of ${subscription}`;
    } catch (problem) { status.textContent = String(problem.message || problem); }
    loadDeadLetters();
  };
  dialog.showModal();
}

// -- publish ------------------------------------------------------------------------------

function example(schema, root, depth = 0) {
  if (!schema || depth > 8) return {};
  if (schema.$ref) return example((root.$defs || {})[schema.$ref.split("/").pop()], root, depth + 1);
  if (schema.anyOf) return example(schema.anyOf.find((s) => s.type !== "null") || schema.anyOf[0], root, depth + 1);
  if (schema.default !== undefined) return schema.default;
  if (schema.type === "object") {
    const out = {};
    for (const name of schema.required || Object.keys(schema.properties || {}))
      out[name] = example((schema.properties || {})[name], root, depth + 1);
    return out;
  }
  if (schema.type === "integer" || schema.type === "number") return schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum || 0);
  if (schema.type === "boolean") return false;
  if (schema.type === "array") return [];
  if (schema.format === "date-time") return new Date(Date.now() + 3600e3).toISOString();
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  return "";
}

async function loadEventTypes() {
  const select = document.getElementById("publish-type");
  const found = await api("/api/event-types");
  state.types = found.types;
  select.replaceChildren(...found.types.map((t, i) => el("option", { value: i, disabled: t.schema ? null : "" }, `${t.topic}: ${t.type}`)));
  select.onchange = () => {
    const chosen = state.types[select.value];
    // The type's valid example (library/event_examples.py); the schema's shape otherwise.
    const start = chosen.example && Object.keys(chosen.example).length ? chosen.example : example(chosen.schema, chosen.schema);
    document.getElementById("publish-data").value = json(start);
    document.getElementById("publish-schema").textContent = json(chosen.schema);
  };
  select.onchange();
}

async function publish(event) {
  event.preventDefault();
  const target = document.getElementById("publish-result");
  const chosen = state.types[document.getElementById("publish-type").value];
  let data;
  try { data = JSON.parse(document.getElementById("publish-data").value); }
  catch (problem) { return error(target, new Error("data is not JSON: " + problem.message)); }
  try {
    const result = await post("/api/publish", { topic: chosen.topic, type: chosen.type, data,
      correlation_id: document.getElementById("publish-correlation").value.trim() || null });
    target.replaceChildren(el("p", { class: "ok", data: { event: result.event_id } },
      `published ${result.type} to ${result.topic}: event ${result.event_id} (message ${result.message_id}) `,
      el("button", { type: "button", onclick: () => openStory(result.event_id) }, "Open its story")));
  } catch (problem) { error(target, problem); }
}

// -- data ---------------------------------------------------------------------------------

async function loadData() {
  const select = document.getElementById("collection");
  const current = ticket("collections");
  try {
    const found = await api("/api/data/collections");
    if (!current()) return;
    const chosen = select.value;
    select.replaceChildren(...found.collections.map((name) => el("option", { value: name }, name)));
    if (found.collections.includes(chosen)) select.value = chosen;
    await Promise.all([loadDocuments(), loadCalls()]);
  } catch (problem) { if (current()) error(document.getElementById("documents"), problem); }
}

async function loadDocuments() {
  const target = document.getElementById("documents");
  const collection = document.getElementById("collection").value;
  const current = ticket("documents");
  if (!collection) return target.replaceChildren(el("p", { class: "hint" }, "no collections yet"));
  const found = await api("/api/data/documents", { collection, limit: 200 });
  if (!current()) return;
  target.replaceChildren(el("h3", {}, `${collection} (${found.documents.length})`),
    ...found.documents.map((d) => el("details", { data: { path: d.path } },
      el("summary", {}, d.id, d.fields.state ? ` — ${d.fields.state}` : d.fields.status ? ` — ${d.fields.status}` : ""),
      el("pre", {}, json(d.fields)))));
}

async function loadCalls() {
  const target = document.getElementById("calls");
  const current = ticket("calls");
  const found = await api("/api/sandbox/calls", { service: document.getElementById("calls-service").value, limit: 300 });
  if (!current()) return;
  if (!found.sandbox) return target.replaceChildren(el("p", { class: "hint" }, "no sandbox runs"));
  target.replaceChildren(el("h3", {}, `sandbox calls (${found.calls.length})`),
    ...found.calls.slice().reverse().map((c) => el("details", { data: { service: c.service } },
      el("summary", {}, `${new Date(c.time * 1000).toISOString().slice(11, 23)} ${c.service} ${c.method} ${c.path} -> ${c.status ?? "dropped"}`),
      el("pre", {}, c.body || "(no body)"))));
}

// -- start --------------------------------------------------------------------------------

function fillFilters() {
  const form = document.getElementById("filters");
  const add = (name, values) => form.elements[name].append(...values.map((v) => el("option", { value: v }, v)));
  add("agent", Object.keys(state.overview.agents));
  add("type", [...new Set(Object.values(state.overview.topics).flat())].sort());
  add("outcome", state.overview.outcomes);
  form.addEventListener("submit", applyFilters);
  form.addEventListener("reset", () => setTimeout(applyFilters, 0));
}

function connect() {
  const live = document.getElementById("live");
  const stream = new EventSource("/api/stream");
  stream.onopen = () => { live.textContent = "live"; live.className = "on"; };
  stream.onerror = () => { live.textContent = "disconnected (retrying)"; live.className = "off"; };
  stream.onmessage = (message) => {
    const update = JSON.parse(message.data);
    state.counts = update.counts;
    renderCounts();
    addRows(update.rows);
  };
}

async function start() {
  for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => show(button.dataset.tab));
  state.overview = await api("/api/overview");
  document.getElementById("project").textContent = state.overview.project;
  fillFilters();
  document.getElementById("story-form").addEventListener("submit", loadStory);
  document.getElementById("publish-form").addEventListener("submit", publish);
  document.getElementById("dl-refresh").addEventListener("click", loadDeadLetters);
  document.getElementById("data-refresh").addEventListener("click", loadData);
  document.getElementById("collection").addEventListener("change", loadDocuments);
  document.getElementById("calls-service").addEventListener("change", loadCalls);
  await drawGraph();
  connect();
  loadEventTypes().catch((problem) => error(document.getElementById("publish-result"), problem));
  const story = new URLSearchParams(location.hash.slice(1)).get("story");
  if (story) openStory(story);
  document.body.dataset.ready = "true";
}

start();

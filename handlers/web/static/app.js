// aiops Web UI. Everything from the server is inserted with textContent (never innerHTML).
"use strict";
const csrf = document.querySelector("meta[name=csrf-token]").content;
const $ = (id) => document.getElementById(id);
const views = { ask: "ask-view", investigations: "investigations-view", audit: "audit-view" };

async function api(path, options = {}) {
  const headers = Object.assign({ "X-CSRF-Token": csrf }, options.headers || {});
  const resp = await fetch("/ui/api" + path, Object.assign({}, options, { headers, credentials: "same-origin" }));
  if (resp.status === 401) { window.location.assign("/"); throw new Error("logged out"); }
  return resp;
}

async function problemText(resp) {
  try { const p = await resp.json(); return p.detail || p.title || ("HTTP " + resp.status); }
  catch (e) { return "HTTP " + resp.status; }
}

function show(name) {
  for (const [key, id] of Object.entries(views)) { $(id).hidden = key !== name; }
  if (name === "investigations") { loadInvestigations(); }
  if (name === "audit") { loadAudit(); }
}

function item(list, text) { const li = document.createElement("li"); li.textContent = text; list.appendChild(li); return li; }

async function whoami() {
  const resp = await api("/whoami");
  if (!resp.ok) { return; }
  const me = await resp.json();
  const ns = Array.isArray(me.namespaces) ? me.namespaces.join(", ") : me.namespaces;
  $("who").textContent = `Signed in as ${me.username} (${me.roles.join(", ")}) — namespaces: ${ns || "none"}`;
}

function parseEvents(buffer, onEvent) {
  let cut;
  while ((cut = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
    let event = "message"; const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) { event = line.slice(6).trim(); }
      else if (line.startsWith("data:")) { data.push(line.slice(5).trim()); }
    }
    if (data.length) { onEvent(event, JSON.parse(data.join("\n"))); }
  }
  return buffer;
}

async function ask(event) {
  event.preventDefault();
  const body = { question: $("question").value, stream: true };
  if ($("namespace").value.trim()) { body.namespace = $("namespace").value.trim(); }
  $("answer").textContent = ""; $("evidence").textContent = ""; $("audit-ref").textContent = "";
  $("graphs").textContent = "";
  $("status").textContent = "Sending…";
  const resp = await api("/ask", { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "Accept": "text/event-stream" } });
  if (!resp.ok) { $("status").textContent = await problemText(resp); $("status").className = "error"; return; }
  $("status").className = "";
  const reader = resp.body.getReader(); const decoder = new TextDecoder(); let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) { break; }
    buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), onAnswerEvent);
  }
}

function onAnswerEvent(kind, data) {
  if (kind === "status") { $("status").textContent = data.text; }
  else if (kind === "delta") { $("answer").textContent += data.text; }
  else if (kind === "final" || kind === "error") {
    $("answer").textContent = data.text;
    $("status").textContent = kind === "final" ? "Answered." : "The question could not be answered.";
    for (const e of data.evidence || []) { item($("evidence"), e); }
    $("graphs").textContent = "";
    for (const g of data.graphs || []) {
      const fig = document.createElement("figure"); const img = document.createElement("img");
      img.src = "data:image/png;base64," + g.data; img.alt = g.title;
      const cap = document.createElement("figcaption"); cap.textContent = g.title;
      fig.appendChild(img); fig.appendChild(cap); $("graphs").appendChild(fig);
    }
    $("audit-ref").textContent = "audit id: " + data.audit_id;
  }
}

async function loadInvestigations() {
  const list = $("investigations"); list.textContent = "";
  const resp = await api("/conversations");
  if (!resp.ok) { item(list, await problemText(resp)).className = "error"; return; }
  for (const c of (await resp.json()).conversations) {
    const li = item(list, "");
    const ids = c.audit_ids || [];
    const link = document.createElement("a"); link.href = "#investigations";
    link.textContent = `${c.started.slice(0, 19).replace("T", " ")} — ${c.first_question || "(no question)"}`;
    link.addEventListener("click", () => openInvestigation(ids[ids.length - 1]));
    li.appendChild(link);
  }
}

async function openInvestigation(id) {
  const box = $("investigation"); box.textContent = "";
  if (!id) { return; }
  const resp = await api("/investigations/" + encodeURIComponent(id));
  if (!resp.ok) { box.textContent = await problemText(resp); return; }
  const inv = await resp.json();
  const h = document.createElement("h3"); h.textContent = inv.question; box.appendChild(h);
  const p = document.createElement("p"); p.textContent = inv.answer_retained ? inv.answer : "(answer past retention)";
  box.appendChild(p);
  const ref = document.createElement("p"); ref.textContent = "audit id: " + inv.id; box.appendChild(ref);
}

async function loadAudit(event) {
  if (event) { event.preventDefault(); }
  $("audit-error").textContent = "";
  const tbody = document.querySelector("#audit-table tbody"); tbody.textContent = "";
  const params = new URLSearchParams();
  for (const name of ["user", "type"]) { const v = $("f-" + name).value.trim(); if (v) { params.set(name, v); } }
  if ($("f-since").value) { params.set("since", new Date($("f-since").value).toISOString()); }
  const resp = await api("/audit?" + params.toString());
  if (!resp.ok) { $("audit-error").textContent = await problemText(resp); $("audit-table").hidden = true; return; }
  $("audit-table").hidden = false;
  for (const e of (await resp.json()).events) {
    const tr = document.createElement("tr");
    for (const cell of [e.timestamp, e.event_type, e.user_id, e.namespace || "",
      e.user_message || e.failure_reason || (e.tool_calls ? JSON.stringify(e.tool_calls) : "")]) {
      const td = document.createElement("td"); td.textContent = cell; tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  const verify = await api("/audit/verify");
  $("verify-status").textContent = verify.ok ? "Last verification: " + JSON.stringify(await verify.json())
    : await problemText(verify);
}

if ($("ask-form")) {  // the signed-in page (the login page has no app)
  $("ask-form").addEventListener("submit", ask);
  $("audit-form").addEventListener("submit", loadAudit);
  const current = () => { const name = (location.hash || "#ask").slice(1); return name in views ? name : "ask"; };
  window.addEventListener("hashchange", () => show(current()));
  whoami();
  show(current());
}

// Agent desktop. Plain DOM, no build step. Caller text is always set with
// textContent (never innerHTML): transcripts are untrusted input.
"use strict";

const INTENTS = {
  check_balance: "查詢餘額", reset_password: "重設密碼", report_card_loss: "卡片掛失",
  technical_support: "技術支援（網銀/App）", complaint: "客訴", talk_to_agent: "轉接專人",
};
const LANGS = { "zh-TW": "華語", "nan-TW": "台語" };
const STATUS = { available: "可接聽", offered: "來電中", busy: "通話中", wrap_up: "結案中", away: "暫離" };
const SPEAKERS = { caller: "客戶", bot: "IVR", agent: "專員", system: "系統" };

const $ = (id) => document.getElementById(id);
let meta = null, snap = null, socket = null, retry = 0;

function el(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") n.className = v; else if (k.startsWith("data-")) n.setAttribute(k, v); else n[k] = v;
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) n.append(k instanceof Node ? k : String(k));
  return n;
}
const fmtSecs = (s) => {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  return s < 60 ? `${s} 秒` : `${Math.floor(s / 60)} 分 ${String(s % 60).padStart(2, "0")} 秒`;
};
const fmtPct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const fmtNum = (x, d = 1) => (x === null || x === undefined ? "—" : Number(x).toFixed(d));
const mmss = (s) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch(path, { credentials: "same-origin", ...opts });
  if (r.status === 401) { showLogin(); throw new Error("請重新登入"); }
  if (!r.ok) { let d = r.statusText; try { d = (await r.json()).detail || d; } catch (_) {} throw new Error(typeof d === "string" ? d : JSON.stringify(d)); }
  return r.status === 204 ? null : r.json();
}
function toast(msg) {
  const t = $("toast"); t.textContent = msg; t.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => (t.hidden = true), 4000);
}
async function act(fn) { try { await fn(); } catch (e) { toast(e.message); } }

// -- login ------------------------------------------------------------------
function showLogin() {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  $("desk-view").hidden = true; $("login-view").hidden = false; $("login-id").focus();
}
$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
    body: JSON.stringify({ agent_id: $("login-id").value.trim(), password: $("login-password").value }) });
  if (!r.ok) { $("login-error").textContent = r.status === 429 ? "登入失敗次數過多，請稍後再試" : "代號或密碼錯誤"; return; }
  $("login-password").value = "";
  await startDesk();
});
$("logout").addEventListener("click", () => act(async () => { await api("/api/logout", {}); showLogin(); }));

// -- desk ---------------------------------------------------------------------
async function startDesk() {
  meta = await api("/api/meta");
  $("transfer-queue").replaceChildren(...meta.queues.map((q) => el("option", { value: q.name }, `${q.name} · ${q.description}`)));
  $("wrapup-disposition").replaceChildren(...Object.entries(meta.dispositions).map(([k, v]) => el("option", { value: k }, v)));
  $("login-view").hidden = true; $("desk-view").hidden = false;
  connect();
}
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws`);
  socket.onmessage = (m) => { retry = 0; snap = JSON.parse(m.data); render(); };
  // A refused handshake shows up as 1006, so ask the API whether the session is gone.
  socket.onclose = async (ev) => {
    if (ev.code === 4401) { showLogin(); return; }
    const me = await fetch("/api/me", { credentials: "same-origin" }).catch(() => null);
    if (me && me.status === 401) { showLogin(); return; }
    setTimeout(connect, Math.min(5000, 500 * 2 ** retry++));
  };
}

function render() {
  const { agent, state, call, queues } = snap;
  $("agent-name").textContent = `${agent.name}（${agent.id} · ${agent.tier}）`;
  const pill = $("status-pill"); pill.className = `pill ${state.status}`; pill.textContent = STATUS[state.status] || state.status;
  // Only available/away are the agent's choice; the rest follow the call.
  const sel = $("status-select"); sel.hidden = !["available", "away"].includes(state.status);
  if (!sel.hidden) sel.value = state.status;
  $("tab-supervisor").hidden = agent.role !== "supervisor";
  renderCall(call, state);
  renderQueues(queues);
  if (snap.supervisor) renderSupervisor(snap.supervisor);
}

function renderCall(call, state) {
  $("no-call").hidden = !!call; $("call").hidden = !call;
  if (!call) return;
  const t = call.ticket, c = call.context;
  const phase = state.status === "offered" ? "offered" : state.status === "busy" ? "connected" : "wrap_up";
  const banner = $("call-banner");
  banner.className = `banner ${t.callback_number && phase === "offered" ? "callback" : phase}`;
  banner.textContent = phase === "offered"
    ? (t.callback_number ? `回撥請求 · 請撥 ${t.callback_number}` : `來電轉接中 · ${t.queue} 佇列 · 已等候 ${fmtSecs(Date.now() / 1000 - t.enqueued_at)}`)
    : phase === "connected" ? "通話中" : "通話已結束，請完成結案";
  banner.dataset.since = phase === "connected" && t.accepted_at ? t.accepted_at : "";
  tickTimer();
  $("ctx-caller").textContent = c.customer_name ? `${c.customer_name} · ${c.caller_number || "未顯示號碼"}` : (c.caller_number || "未顯示號碼");
  $("ctx-sub").textContent = `來電編號 ${c.call_id} · 轉接原因：${c.reason || "—"}${c.note ? "（" + c.note + "）" : ""}`;
  $("btn-accept").hidden = $("btn-decline").hidden = phase !== "offered";
  $("btn-hangup").hidden = phase !== "connected";
  $("call-forms").hidden = phase === "offered";
  $("transfer-form").hidden = phase !== "connected";

  const verified = c.verified
    ? el("span", { class: "badge ok" }, `已驗證 · ${c.verified_by || "—"}`)
    : el("span", { class: "badge no" }, "未驗證");
  const fact = (k, v) => el("div", { class: "fact" }, el("div", { class: "k" }, k), el("div", { class: "v" }, v));
  $("ctx-facts").replaceChildren(
    fact("身分驗證", verified),
    fact("意圖 Intent", INTENTS[c.intent] || c.intent || "—"),
    fact("語言", LANGS[c.language] || c.language),
    fact("客戶等級", c.customer_tier ? el("span", { class: "badge info" }, c.customer_tier.toUpperCase()) : "一般"),
    fact("客戶價值", c.value_label || "—"),
  );
  // the caller's last contacts (ivr.history), newest first: when · why · how it ended · who · wrap-up
  const recent = c.recent_contacts || [];
  $("ctx-history").replaceChildren(...(recent.length ? recent.map((h) => el("tr", {},
    el("td", {}, h.when || ""),
    el("td", {}, [INTENTS[h.intent] || h.intent || "—", h.outcome, h.queue, h.agent, h.wrap_up, h.notes]
      .filter((x) => x).join(" · "))))
    : [el("tr", {}, el("td", { colSpan: 2, class: "muted" }, "（無往來紀錄）"))]));
  $("ctx-transcript").replaceChildren(...c.transcript.map((l) =>
    el("li", { class: l.speaker === "caller" ? "caller-line" : "" }, el("span", { class: "t" }, mmss(l.at)),
      el("div", { class: "bubble" }, el("span", { class: "who" }, SPEAKERS[l.speaker] || l.speaker), l.text))));
  const slots = Object.entries(c.slots || {});
  $("ctx-slots").replaceChildren(...(slots.length ? slots.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))))
    : [el("tr", {}, el("td", { colSpan: 2, class: "muted" }, "（無）"))]));
  const path = [];
  (c.path || []).forEach((p, i) => { if (i) path.push(el("i", {}, "›")); path.push(el("span", {}, p)); });
  $("ctx-path").replaceChildren(...path);
  $("ctx-notes-wrap").hidden = !t.notes; $("ctx-notes").textContent = t.notes || "";
  $("call").dataset.ticket = t.id;
}

// Talk-time counter in the banner, between snapshots.
function tickTimer() {
  const b = $("call-banner"), since = Number(b.dataset.since || 0);
  if (since) b.textContent = `通話中 · ${mmss(Math.max(0, Date.now() / 1000 - since))}`;
}
setInterval(tickTimer, 1000);

function renderQueues(queues) {
  $("queues").replaceChildren(...queues.map((q) => {
    const rows = q.waiting.map((w) => el("tr", {},
      el("td", {}, `#${w.position}`),
      el("td", {}, INTENTS[w.intent] || w.intent || "—"),
      el("td", {}, LANGS[w.language] || w.language),
      el("td", {}, w.verified ? el("span", { class: "badge ok" }, "已驗證") : "",
        w.callback ? el("span", { class: "badge info" }, " 回撥") : "", w.priority > 0 ? el("span", { class: "badge warn" }, ` P${w.priority}`) : ""),
      el("td", {}, fmtSecs(w.waited))));
    return el("div", { class: "queue", "data-queue": q.name },
      el("div", { class: "queue-head" }, el("b", {}, `${q.name} · ${q.description}`),
        el("span", { class: "muted small" }, `${q.waiting.length} 通等候 · 預估 ${q.ewt === null ? "—" : fmtSecs(q.ewt)}`)),
      rows.length ? el("table", {}, el("tbody", {}, rows)) : el("div", { class: "none" }, "目前無人等候"));
  }));
}

function renderSupervisor(s) {
  const T = s.totals;
  const tile = (k, v) => el("div", { class: "tile" }, el("div", { class: "k" }, k), el("div", { class: "v" }, v));
  $("sup-tiles").replaceChildren(
    tile("服務水準 SL", fmtPct(T.service_level)), tile("放棄率", fmtPct(T.abandonment_rate)),
    tile("平均處理時間 AHT", fmtSecs(T.average_handle_time)), tile("機器人自助完成率", fmtPct(T.bot_containment_rate)),
    tile("已接聽", T.answered), tile("等候中", s.queues.reduce((a, q) => a + q.waiting, 0)));
  const head = (...h) => el("thead", {}, el("tr", {}, h.map((x) => el("th", {}, x))));
  $("sup-queues").replaceChildren(head("佇列", "等候", "最長等候", "已接聽", "放棄", "服務水準", "放棄率", "AHT", "ASA"),
    el("tbody", {}, s.queues.map((q) => el("tr", {}, el("td", {}, q.name), el("td", {}, q.waiting), el("td", {}, fmtSecs(q.longest_wait)),
      el("td", {}, q.answered), el("td", {}, q.abandoned), el("td", {}, `${fmtPct(q.service_level)} / ${q.service_level_seconds}s`),
      el("td", {}, fmtPct(q.abandonment_rate)), el("td", {}, fmtSecs(q.average_handle_time)), el("td", {}, fmtSecs(q.average_speed_of_answer))))));
  $("sup-agents").replaceChildren(head("專員", "層級", "技能", "狀態", "回應速度", "接聽率", "處理數", "解決率", "AHT", "品質", "滿意度"),
    el("tbody", {}, s.agents.map((a) => el("tr", {}, el("td", {}, `${a.name} (${a.id})`), el("td", {}, a.tier), el("td", {}, a.skills.join(", ")),
      el("td", {}, el("span", { class: `pill ${a.status}` }, STATUS[a.status] || a.status)), el("td", {}, fmtSecs(a.reply_speed)),
      el("td", {}, fmtPct(a.reply_rate)), el("td", {}, a.handled), el("td", {}, fmtPct(a.resolution_rate)),
      el("td", {}, fmtSecs(a.average_handle_time)), el("td", {}, fmtNum(a.quality)), el("td", {}, fmtNum(a.satisfaction))))));
}

// Outbound campaigns: polled (the dialer writes its own database, nothing pushes).
const CAMPAIGN_STATE = { running: "進行中", paused: "已暫停", done: "已完成" };
async function loadCampaigns() {
  if (!snap || snap.agent.role !== "supervisor" || $("tab-supervisor-view").hidden) return;
  let doc;
  try { doc = await api("/api/supervisor/campaigns"); } catch (e) { $("sup-campaigns-note").textContent = e.message; return; }
  $("sup-campaigns-panel").hidden = !doc.available;
  $("sup-campaigns-note").textContent = `更新於 ${new Date().toLocaleTimeString("zh-TW", { hour12: false })}`;
  const head = (...h) => el("thead", {}, el("tr", {}, h.map((x) => el("th", {}, x))));
  const rate = (c) => {
    const text = c.abandon_ceiling === null ? fmtPct(c.abandoned_rate) : `${fmtPct(c.abandoned_rate)} / 上限 ${fmtPct(c.abandon_ceiling)}`;
    return el("td", { class: c.over_ceiling ? "over" : "", "data-col": "abandoned" }, text);
  };
  const cell = (col, v) => el("td", { "data-col": col }, v);
  $("sup-campaigns").replaceChildren(
    head("活動", "狀態", "已撥 attempted", "接通 reached", "承諾還款", "轉接", "拒撥 DNC", "語音信箱", "放棄率"),
    el("tbody", {}, doc.campaigns.length ? doc.campaigns.map((c) => el("tr", { "data-campaign": c.name },
      cell("name", c.name), el("td", { "data-col": "status" }, el("span", { class: `pill ${c.status}` }, CAMPAIGN_STATE[c.status] || c.status)),
      cell("attempted", `${c.attempted} / ${c.contacts}`), cell("reached", c.reached), cell("promised", c.promised_to_pay),
      cell("transferred", c.transferred), cell("dnc", c.dnc), cell("voicemail", c.voicemail), rate(c)))
      : el("tr", {}, el("td", { colSpan: 9, class: "none" }, "沒有外撥活動"))));
}
setInterval(() => loadCampaigns(), 5000);

// -- actions -------------------------------------------------------------------
const ticketId = () => $("call").dataset.ticket;
$("btn-accept").addEventListener("click", () => act(() => api(`/api/tickets/${ticketId()}/accept`, {})));
$("btn-decline").addEventListener("click", () => act(() => api(`/api/tickets/${ticketId()}/decline`, {})));
$("btn-hangup").addEventListener("click", () => act(() => api(`/api/tickets/${ticketId()}/hangup`, {})));
$("transfer-form").addEventListener("submit", (ev) => { ev.preventDefault(); act(async () => {
  await api(`/api/tickets/${ticketId()}/transfer`, { queue: $("transfer-queue").value, note: $("transfer-note").value });
  $("transfer-note").value = ""; toast("已轉接");
}); });
$("wrapup-form").addEventListener("submit", (ev) => { ev.preventDefault(); act(async () => {
  await api(`/api/tickets/${ticketId()}/wrapup`, { disposition: $("wrapup-disposition").value, note: $("wrapup-note").value });
  $("wrapup-note").value = ""; toast("已完成結案");
}); });
$("status-select").addEventListener("change", (ev) => act(() => api("/api/status", { status: ev.target.value })));
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
  $("tab-desk").hidden = b.dataset.tab !== "desk"; $("tab-supervisor-view").hidden = b.dataset.tab !== "supervisor";
  loadCampaigns();
}));

// Already logged in (cookie)? Go straight to the desk.
fetch("/api/me", { credentials: "same-origin" }).then((r) => (r.ok ? startDesk() : showLogin())).catch(showLogin);

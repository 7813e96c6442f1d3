// lienthong operators' dashboard: no framework, no network beyond this hub's own API.
"use strict";

const T = {
  vi: {
    title: "Trục liên thông văn bản — bảng điều hành",
    "nav.overview": "Tổng quan", "nav.documents": "Văn bản", "nav.agencies": "Cơ quan",
    "nav.dead": "Thư lỗi", "nav.actions": "Nhật ký thao tác",
    signout: "Đăng xuất", updated: "Cập nhật lúc",
    "signin.title": "Đăng nhập vận hành", "signin.token": "Mã truy cập (token) của người vận hành",
    "signin.submit": "Đăng nhập", "signin.bad": "Mã truy cập không hợp lệ",
    overdue: "Quá hạn xử lý", dead: "Thư lỗi", rejected24: "Bị từ chối (24 giờ)",
    expiring: "Chứng thư sắp hết hạn (30 ngày)", stale: "CRL quá hạn",
    throughput: "Lưu lượng (văn bản/phút, 1 giờ qua)", latency: "Độ trễ đầu-cuối (ms, p50 / p95)",
    backlog: "Tồn đọng theo cơ quan", agency: "Cơ quan", waiting: "Đang chờ", oldest: "Cũ nhất",
    pending: "Chờ trong trục", unanswered: "Chưa phản hồi", oldestUnanswered: "Chưa phản hồi lâu nhất", rejections: "Từ chối theo mã (24 giờ)", code: "Mã", count: "Số lượng",
    recent: "Văn bản gần đây", document: "Văn bản", sender: "Nơi gửi", recipients: "Nơi nhận",
    status: "Trạng thái", at: "Thời điểm", subject: "Trích yếu", none: "Không có",
    search: "Tìm", csv: "Tải CSV", since: "Từ", until: "Đến", overdueOnly: "Chỉ quá hạn",
    rejectedCode: "Mã từ chối", state: "Tình trạng", lastSeen: "Hoạt động gần nhất",
    certificates: "Chứng thư số", expires: "Hết hạn", suspend: "Tạm dừng", resume: "Khôi phục",
    queues: "Hàng đợi", ready: "Sẵn sàng", unacked: "Đang xử lý", consumers: "Kết nối nhận",
    requeue: "Xử lý lại", discard: "Loại bỏ", reason: "Lý do", submitter: "Nơi nộp",
    kind: "Loại", timeline: "Dòng thời gian", event: "Sự kiện", by: "Bởi", claimed: "tự khai là", transport: "không ký số", transportHelp: "Nhận theo xác thực của hệ thống gửi (chính sách --unsigned accept), không có chữ ký số XML-DSig", operator: "Người vận hành",
    action: "Thao tác", target: "Đối tượng", active: "hoạt động", suspended: "tạm dừng",
    confirm: "Bạn chắc chắn?", done: "Đã thực hiện", viewer: "chỉ xem", admin: "quản trị",
    notfound: "Không tìm thấy", fingerprint: "Dấu vân tay (SHA-256)",
    name: "Tên", system: "Hệ thống kết nối", parent: "Cơ quan cấp trên", children: "Đơn vị trực thuộc",
    top: "Cấp cao nhất", closedInto: "Đã đóng, kế thừa bởi", find: "Mã hoặc tên",
  },
  en: {
    title: "Document interchange hub — operations",
    "nav.overview": "Overview", "nav.documents": "Documents", "nav.agencies": "Agencies",
    "nav.dead": "Dead letters", "nav.actions": "Admin actions",
    signout: "Sign out", updated: "Updated",
    "signin.title": "Operator sign-in", "signin.token": "Operator token",
    "signin.submit": "Sign in", "signin.bad": "That token is not valid",
    overdue: "Overdue", dead: "Dead letters", rejected24: "Rejected (24 h)",
    expiring: "Certificates expiring (30 days)", stale: "Stale CRLs",
    throughput: "Throughput (documents/min, last hour)", latency: "End-to-end latency (ms, p50 / p95)",
    backlog: "Backlog per agency", agency: "Agency", waiting: "Waiting", oldest: "Oldest",
    pending: "Pending in hub", unanswered: "Unanswered", oldestUnanswered: "Oldest unanswered", rejections: "Rejections by code (24 h)", code: "Code", count: "Count",
    recent: "Recent documents", document: "Document", sender: "Sender", recipients: "Recipients",
    status: "Status", at: "At", subject: "Subject", none: "None",
    search: "Search", csv: "Download CSV", since: "Since", until: "Until", overdueOnly: "Overdue only",
    rejectedCode: "Rejection code", state: "State", lastSeen: "Last seen",
    certificates: "Certificates", expires: "Expires", suspend: "Suspend", resume: "Resume",
    queues: "Queues", ready: "Ready", unacked: "Unacked", consumers: "Consumers",
    requeue: "Requeue", discard: "Discard", reason: "Reason", submitter: "Submitter",
    kind: "Kind", timeline: "Timeline", event: "Event", by: "By", claimed: "claims to be", transport: "unsigned", transportHelp: "Accepted on the authority of the sending system's authentication (policy --unsigned accept): no XML-DSig signature", operator: "Operator",
    action: "Action", target: "Target", active: "active", suspended: "suspended",
    confirm: "Are you sure?", done: "Done", viewer: "viewer", admin: "admin",
    notfound: "Not found", fingerprint: "Fingerprint (SHA-256)",
    name: "Name", system: "Connected system", parent: "Parent", children: "Children",
    top: "Top level", closedInto: "Closed, succeeded by", find: "Code or name",
  },
};

let lang = localStorage.getItem("lienthong.lang") || "vi";
let token = sessionStorage.getItem("lienthong.token");
let me = null;
let timer = null;
const REFRESH_MS = 5000;

const t = (key) => (T[lang] && T[lang][key]) || key;
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB") : "—");
const age = (s) => (s == null ? "—" : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
const docLink = (id) => `<a href="#/document/${encodeURIComponent(id)}">${esc(id)}</a>`;
const agencyLink = (id) => `<a href="#/agency/${encodeURIComponent(id)}">${esc(id)}</a>`;

function translate() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("#lang").textContent = lang === "vi" ? "EN" : "VI";
  if (me) $("#who").textContent = `${me.operator} (${t(me.role)})`;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token}`, ...(options.headers || {}) },
  });
  if (response.status === 401) { if (me) signOut(); throw new Error(t("signin.bad")); }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    const error = new Error(detail); error.status = response.status; throw error;
  }
  return (response.headers.get("content-type") || "").includes("json") ? response.json() : response.text();
}

function table(columns, rows, empty = t("none")) {
  if (!rows.length) return `<p class="muted">${esc(empty)}</p>`;
  const head = columns.map((c) => `<th>${esc(t(c[0]))}</th>`).join("");
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td>${c[1](r)}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function bars(points, keys, colors, height = 120) {
  // a stacked bar per minute over the last hour
  const width = 600, slot = width / 60;
  const end = Date.now(), start = end - 3600 * 1000;
  const max = Math.max(1, ...points.map((p) => keys.reduce((s, k) => s + (p[k] || 0), 0)));
  let svg = `<svg viewBox="0 0 ${width} ${height + 14}" width="100%" role="img">`;
  for (const p of points) {
    const x = ((new Date(p.minute).getTime() - start) / 60000) * slot;
    let y = height;
    keys.forEach((k, i) => {
      const h = ((p[k] || 0) / max) * height;
      y -= h;
      svg += `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[i]}"><title>${esc(k)} ${p[k]}</title></rect>`;
    });
  }
  svg += `<text x="0" y="${height + 12}">-60 min</text><text x="${width - 24}" y="${height + 12}">now</text>`;
  svg += `<text x="2" y="10">${max}</text></svg>`;
  return svg;
}

function lines(points, keys, colors, height = 120) {
  const width = 600, end = Date.now(), start = end - 3600 * 1000;
  const max = Math.max(1, ...points.flatMap((p) => keys.map((k) => p[k] || 0)));
  let svg = `<svg viewBox="0 0 ${width} ${height + 14}" width="100%" role="img">`;
  keys.forEach((k, i) => {
    const d = points.map((p, j) => {
      const x = ((new Date(p.minute).getTime() - start) / 3600000) * width;
      const y = height - ((p[k] || 0) / max) * height;
      return `${j ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    }).join(" ");
    if (d) svg += `<path d="${d}" fill="none" stroke="${colors[i]}" stroke-width="2"><title>${esc(k)}</title></path>`;
    for (const p of points) {
      const x = ((new Date(p.minute).getTime() - start) / 3600000) * width;
      const y = height - ((p[k] || 0) / max) * height;
      svg += `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.5" fill="${colors[i]}"><title>${esc(k)} ${p[k]}</title></circle>`;
    }
  });
  svg += `<text x="0" y="${height + 12}">-60 min</text><text x="${width - 24}" y="${height + 12}">now</text>`;
  svg += `<text x="2" y="10">${Math.round(max)} ms</text></svg>`;
  return svg;
}

// --- pages -----------------------------------------------------------------------------------

async function overview(main) {
  const [o, recent] = await Promise.all([
    api("/api/v1/ops/overview"),
    api("/api/v1/ops/documents?limit=10"),
  ]);
  const rejected = o.rejections_24h.reduce((s, r) => s + r.count, 0);
  const stale = o.crls.filter((c) => c.stale);
  const figure = (label, value, bad) =>
    `<div class="card"><div class="muted">${esc(t(label))}</div><div class="figure ${bad ? "bad" : "ok"}" data-figure="${label}">${esc(value ?? "—")}</div></div>`;
  main.innerHTML = `
    <div class="grid">
      ${figure("overdue", o.overdue, o.overdue > 0)}
      ${figure("dead", o.dead_letters, o.dead_letters > 0)}
      ${figure("rejected24", rejected, false)}
      ${figure("expiring", o.certificates_expiring.length, o.certificates_expiring.length > 0)}
      ${figure("stale", stale.length, stale.length > 0)}
    </div>
    ${o.broker_error ? `<p class="error">RabbitMQ: ${esc(o.broker_error)}</p>` : ""}
    <div class="grid2">
      <div class="card"><h2>${esc(t("throughput"))}</h2>${bars(o.throughput, ["accepted", "rejected"], ["#1f7a3e", "#b4161b"])}</div>
      <div class="card"><h2>${esc(t("latency"))}</h2>${lines(o.latency, ["p50_ms", "p95_ms"], ["#1f5fa8", "#b86e00"])}</div>
    </div>
    <div class="grid2">
      <div class="card" id="backlog"><h2>${esc(t("backlog"))}</h2>${table([
        ["agency", (b) => agencyLink(b.agency)],
        ["waiting", (b) => esc(b.waiting)],
        ["oldest", (b) => esc(age(b.oldest_age_seconds))],
        ["pending", (b) => esc(b.pending_in_hub ?? 0)],
        ["unanswered", (b) => esc(b.unanswered ?? 0)],
        ["oldestUnanswered", (b) => esc(age(b.oldest_unanswered_seconds))],
      ], o.backlog)}</div>
      <div class="card"><h2>${esc(t("rejections"))}</h2>${table([
        ["code", (r) => `<span class="tag bad">${esc(r.code)}</span>`],
        ["count", (r) => esc(r.count)],
      ], o.rejections_24h)}</div>
    </div>
    <div class="card" id="recent"><h2>${esc(t("recent"))}</h2>${documentsTable(recent.documents)}</div>
    <div class="grid2">
      <div class="card"><h2>${esc(t("expiring"))}</h2>${table([
        ["agency", (c) => (c.agency ? agencyLink(c.agency) : "CA")],
        ["subject", (c) => esc(c.subject)],
        ["expires", (c) => esc(when(c.not_after))],
      ], o.certificates_expiring)}</div>
      <div class="card"><h2>CRL</h2>${table([
        ["agency", (c) => esc(c.ca)],
        ["expires", (c) => esc(when(c.next_update))],
        ["state", (c) => (c.stale ? `<span class="tag bad">STALE</span>` : `<span class="tag ok">OK</span>`)],
      ], o.crls)}</div>
    </div>`;
}

function documentsTable(rows) {
  return table([
    ["document", (d) => docLink(d.document_id)],
    ["sender", (d) => agencyLink(d.sender || "")],
    ["recipients", (d) => (d.recipients || []).map(agencyLink).join(", ")],
    ["subject", (d) => esc(d.subject || d.detail || "")],
    ["status", (d) => (d.code ? `<span class="tag bad">${esc(d.code)}</span>` :
      `${esc(d.last_status || "")}${d.overdue ? ` <span class="tag bad">${esc(t("overdue"))}</span>` : ""}`)],
    ["at", (d) => esc(when(d.at))],
  ], rows);
}

let lastSearch = "";
async function documents(main, refresh) {
  if (!refresh || !$("#search", main)) {
    main.innerHTML = `
      <div class="card"><form id="search" class="filters">
        <label>${esc(t("document"))}<br><input name="document_id"></label>
        <label>${esc(t("sender"))}<br><input name="sender" size="14"></label>
        <label>${esc(t("recipients"))}<br><input name="recipient" size="14"></label>
        <label>${esc(t("status"))}<br><input name="status" size="3"></label>
        <label>${esc(t("rejectedCode"))}<br><input name="code" size="16"></label>
        <label>${esc(t("since"))}<br><input name="since" type="datetime-local"></label>
        <label>${esc(t("until"))}<br><input name="until" type="datetime-local"></label>
        <label><input name="overdue" type="checkbox" value="true"> ${esc(t("overdueOnly"))}</label>
        <button class="act" type="submit">${esc(t("search"))}</button>
        <button class="act secondary" type="button" id="csv">${esc(t("csv"))}</button>
      </form></div>
      <div class="card" id="results"></div>`;
    const form = $("#search", main);
    const query = () => {
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(form)) {
        if (!v) continue;
        params.set(k, k === "since" || k === "until" ? new Date(v).toISOString() : v);
      }
      return params;
    };
    form.addEventListener("submit", async (e) => { e.preventDefault(); lastSearch = query().toString(); await documents(main, true); });
    $("#csv", main).addEventListener("click", async () => {
      const params = query(); params.set("format", "csv"); params.set("limit", "5000");
      const text = await api(`/api/v1/ops/documents?${params}`);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      link.download = "documents.csv"; link.click();
    });
  }
  const found = await api(`/api/v1/ops/documents?${lastSearch}`);
  $("#results", main).innerHTML = documentsTable(found.documents);
}

async function timeline(main, id) {
  let data;
  try { data = await api(`/api/v1/documents/${encodeURIComponent(id)}`); } catch (e) {
    main.innerHTML = `<div class="card"><p class="error">${esc(t("notfound"))}: ${esc(id)}</p></div>`; return;
  }
  main.innerHTML = data.documents.map((d) => `
    <div class="card">
      <h2>${esc(t("timeline"))}: ${esc(d.document_id)}</h2>
      <p>${esc(d.subject || "")} — ${esc(t("sender"))} ${agencyLink(d.sender)} — <span class="tag">${esc(d.state)}</span></p>
      ${table([
        ["agency", (r) => agencyLink(r.organ_id)],
        ["status", (r) => esc(r.status || "—") + (r.overdue ? ` <span class="tag bad">${esc(t("overdue"))}</span>` : "")],
        ["expires", (r) => esc(when(r.deadline))],
      ], d.recipients)}
    </div>
    <div class="card" id="events">${table([
      ["at", (e) => esc(when(e.at))],
      ["event", (e) => `<span class="tag ${e.event === "rejected" || e.event === "overdue" ? "bad" : "ok"}" data-event="${esc(e.event)}">${esc(e.event)}</span> ${esc(e.status_code || e.code || e.business_type || "")}${e.assurance === "transport" ? ` <span class="tag warn" data-assurance="transport" title="${esc(t("transportHelp"))}">${esc(t("transport"))}</span>` : ""}`],
      ["by", (e) => esc(e.by || "") + (e.claimed ? ` <span class="tag" title="unverified">${esc(t("claimed"))} ${esc(e.claimed.sender || "?")}</span>` : "")],
      ["recipients", (e) => esc(Array.isArray(e.to) ? e.to.join(", ") : e.to || e.recipient || "") + (e.addressed_to ? ` <span class="tag">← ${esc(e.addressed_to)}</span>` : "")],
      ["reason", (e) => esc(e.detail || e.description || "")],
    ], d.events)}</div>`).join("");
}

async function agencies(main, parent) {
  // the directory as a tree: one level at a time (111,339 agencies do not fit on a page)
  const search = new URLSearchParams(location.hash.split("?")[1] || "").get("q");
  const query = search ? `q=${encodeURIComponent(search)}` : parent ? `parent=${encodeURIComponent(parent)}` : "";
  const data = await api(`/api/v1/ops/agencies?${query}`);
  const up = parent ? await api(`/api/v1/ops/agencies/${encodeURIComponent(parent)}`) : null;
  main.innerHTML = `<div class="card"><h2>${esc(t("nav.agencies"))}</h2>
    <p id="tree-path"><a href="#/agencies">${esc(t("top"))}</a>${up
      ? (up.parent_id ? ` › <a href="#/agencies/${encodeURIComponent(up.parent_id)}">${esc(up.parent_id)}</a>` : "")
        + ` › ${agencyLink(up.organ_id)} ${esc(up.name)}` : ""}</p>
    <form id="tree-search"><input name="q" size="24" placeholder="${esc(t("find"))}" value="${esc(search || "")}">
      <button type="submit">${esc(t("search"))}</button></form>
    <div id="tree">${table([
      ["agency", (a) => agencyLink(a.organ_id)],
      ["name", (a) => esc(a.name)],
      ["system", (a) => esc(a.system_id)],
      ["state", (a) => stateTag(a.state) + (a.successor_id ? ` <span class="tag bad">${esc(t("closedInto"))} ${agencyLink(a.successor_id)}</span>` : "")],
      ["children", (a) => (a.children ? `<a href="#/agencies/${encodeURIComponent(a.organ_id)}" data-children="${esc(a.organ_id)}">▸ ${esc(a.children)}</a>` : "")],
      ["certificates", (a) => esc(a.certificates)],
      ["expires", (a) => esc(when(a.latest_certificate_expiry))],
    ], data.agencies)}</div></div>`;
  $("#tree-search", main).addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new FormData(e.target).get("q");
    location.hash = q ? `#/agencies?q=${encodeURIComponent(q)}` : "#/agencies";
  });
}

const stateTag = (s) => `<span class="tag ${s === "active" ? "ok" : "bad"}" id="state">${esc(t(s))}</span>`;

async function agency(main, id) {
  const a = await api(`/api/v1/ops/agencies/${encodeURIComponent(id)}`);
  const admin = me && me.role === "admin";
  main.innerHTML = `
    <div class="card"><h2>${esc(a.organ_id)} — ${esc(a.name)}</h2>
      <p>${stateTag(a.state)} <span class="muted">${esc(when(a.since))}</span> · ${esc(t("lastSeen"))}: ${esc(when(a.last_seen))}</p>
      <p id="placement">${esc(t("system"))}: <strong id="system">${esc(a.system_id)}</strong>
        ${a.parent_id ? ` · ${esc(t("parent"))}: ${agencyLink(a.parent_id)}` : ""}
        ${a.children ? ` · <a href="#/agencies/${encodeURIComponent(a.organ_id)}">${esc(t("children"))}: ${esc(a.children)}</a>` : ""}
        ${a.successor_id ? ` · <span class="tag bad">${esc(t("closedInto"))} ${agencyLink(a.successor_id)} (${esc(a.closed_on)})</span>` : ""}</p>
      ${admin ? (a.state === "active"
        ? `<button class="act" id="suspend">${esc(t("suspend"))}</button>`
        : `<button class="act" id="resume">${esc(t("resume"))}</button>`) : ""}
    </div>
    <div class="card"><h2>${esc(t("queues"))}</h2>${table([
      ["queues", (q) => esc(q.name)], ["ready", (q) => esc(q.ready)], ["unacked", (q) => esc(q.unacked)],
      ["consumers", (q) => esc(q.consumers)], ["oldest", (q) => esc(age(q.oldest_age_seconds))],
    ], a.queues)}</div>
    <div class="card"><h2>${esc(t("certificates"))}</h2>${table([
      ["subject", (c) => esc(c.subject)], ["fingerprint", (c) => esc(c.fingerprint.slice(0, 16))],
      ["expires", (c) => esc(when(c.not_after))],
    ], a.certificates)}</div>
    <div class="card" id="agency-documents"></div>`;
  for (const action of ["suspend", "resume"]) {
    const button = $(`#${action}`, main);
    if (button) button.addEventListener("click", async () => {
      if (!confirm(t("confirm"))) return;
      await api(`/api/v1/ops/agencies/${encodeURIComponent(id)}/${action}`, { method: "POST" });
      await route();
    });
  }
  const sent = await api(`/api/v1/ops/documents?sender=${encodeURIComponent(id)}&limit=10`);
  $("#agency-documents", main).innerHTML = `<h2>${esc(t("recent"))}</h2>${documentsTable(sent.documents)}`;
}

async function dead(main) {
  const data = await api("/api/v1/ops/dead-letters");
  const admin = me && me.role === "admin";
  main.innerHTML = `<div class="card"><h2>${esc(t("nav.dead"))}</h2>${table([
    ["document", (d) => esc(d.message_id || d.id)],
    ["submitter", (d) => esc(d.submitter || "—")],
    ["kind", (d) => esc(d.kind || "—")],
    ["reason", (d) => esc(d.reason)],
    ["at", (d) => esc(when(d.dead_at))],
    ["action", (d) => (admin ? `<button class="act" data-requeue="${esc(d.id)}">${esc(t("requeue"))}</button>
       <button class="act secondary" data-discard="${esc(d.id)}">${esc(t("discard"))}</button>` : "")],
  ], data.dead_letters)}</div><p id="dead-result" class="muted"></p>`;
  main.querySelectorAll("[data-requeue],[data-discard]").forEach((button) => {
    button.addEventListener("click", async () => {
      const requeue = button.dataset.requeue !== undefined;
      const id = button.dataset.requeue || button.dataset.discard;
      if (!requeue && !confirm(t("confirm"))) return;
      await api(`/api/v1/ops/dead-letters/${encodeURIComponent(id)}/${requeue ? "requeue" : "discard"}`, { method: "POST" });
      await dead(main);
      $("#dead-result", main).textContent = `${t("done")}: ${t(requeue ? "requeue" : "discard")} ${id}`;
    });
  });
}

async function actions(main) {
  const data = await api("/api/v1/ops/actions");
  main.innerHTML = `<div class="card"><h2>${esc(t("nav.actions"))}</h2>${table([
    ["at", (a) => esc(when(a.at))], ["operator", (a) => esc(a.operator)],
    ["action", (a) => esc(a.action)], ["target", (a) => esc(a.target || "")],
  ], data.actions)}</div>`;
}

// --- routing, refresh, sign-in ---------------------------------------------------------------

async function route(refresh = false) {
  if (!token) return;
  const main = $("#main");
  const [, page, arg] = (location.hash.split("?")[0] || "#/").match(/^#\/([^/]*)\/?(.*)$/) || [];
  const id = decodeURIComponent(arg || "");
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${page}`));
  try {
    if (page === "documents") await documents(main, refresh);
    else if (page === "document") await timeline(main, id);
    else if (page === "agencies") await agencies(main, id);
    else if (page === "agency") await agency(main, id);
    else if (page === "dead") await dead(main);
    else if (page === "actions") await actions(main);
    else await overview(main);
    $("#updated").textContent = new Date().toLocaleTimeString(lang === "vi" ? "vi-VN" : "en-GB");
  } catch (e) {
    if (token) main.insertAdjacentHTML("afterbegin", `<p class="error">${esc(e.message)}</p>`);
  }
}

function schedule() {
  clearInterval(timer);
  timer = setInterval(() => {
    const editing = document.activeElement && ["INPUT", "SELECT"].includes(document.activeElement.tagName);
    if (!editing) route(true);
  }, REFRESH_MS);
}

async function signIn(candidate) {
  token = candidate;
  try {
    me = await api("/api/v1/ops/whoami");
  } catch (e) {
    token = null; me = null;
    return false;
  }
  sessionStorage.setItem("lienthong.token", token);
  $("#nav").hidden = false; $("#signout").hidden = false;
  $("#who").textContent = `${me.operator} (${t(me.role)})`;
  await route();
  schedule();
  return true;
}

function signOut() {
  token = null; me = null;
  sessionStorage.removeItem("lienthong.token");
  clearInterval(timer);
  location.hash = "#/";
  location.reload();
}

document.addEventListener("DOMContentLoaded", async () => {
  translate();
  $("#lang").addEventListener("click", () => {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem("lienthong.lang", lang);
    translate();
    route();
  });
  $("#signout").addEventListener("click", signOut);
  window.addEventListener("hashchange", () => route());
  const form = $("#signin");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!(await signIn($("#token").value.trim()))) $("#signin-error").textContent = t("signin.bad");
  });
  if (token && !(await signIn(token))) sessionStorage.removeItem("lienthong.token");
});

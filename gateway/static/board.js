// The secretariat's board: one tile per bridge, live from the gateway's Server-Sent Events
// (/v1/attendance/board/{id}/events: a "snapshot", then each "change"; the browser resumes with
// Last-Event-ID by itself). All bridges are kept in memory; only one page of tiles is in the
// document, so 20,000 bridges stay usable. Every text from the server is set with textContent.
"use strict";
(function () {
  const root = document.getElementById("bang");
  if (!root) return;
  const conference = root.dataset.conference;
  const tilesBox = document.getElementById("o-diem-cau");
  const statusLine = document.getElementById("ket-noi");
  const search = document.getElementById("tim");
  const filter = document.getElementById("loc");
  const groupBy = document.getElementById("nhom");
  const pageSize = document.getElementById("co-trang");
  const pageLabel = document.getElementById("so-trang");
  const prev = document.getElementById("trang-truoc");
  const next = document.getElementById("trang-sau");
  const countsBox = document.getElementById("so-lieu");

  const sites = new Map(); // site id -> bridge
  let order = []; // site ids in invitation order
  let page = 0;
  let source = null;

  const ANSWER = { confirmed: "Đã xác nhận", declined: "Báo vắng", none: "Chưa phản hồi" };
  const TECH = { passed: "Kỹ thuật: đạt", failed: "Kỹ thuật: chưa đạt", not_checked: "Chưa kiểm tra kỹ thuật" };
  const PRESENCE = { connected: "Trực tuyến", dropped: "Mất kết nối", never_connected: "Chưa kết nối" };

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function fromLine(line) {
    let answer = "none";
    if (line.status === "declined") answer = "declined";
    else if (line.status === "confirmed" || (line.status === "checked_in" && (line.headcount > 0 || (line.delegates || []).length > 0))) answer = "confirmed";
    return {
      id: line.site_id,
      name: line.site_name,
      key: fold(line.site_id + " " + line.site_name),
      answer: answer,
      headcount: line.headcount || 0,
      checkedIn: line.status === "checked_in" || !!line.checked_in_at,
      tech: line.technical_check || null,
      presence: line.presence ? line.presence.state : "never_connected",
      rollCall: line.roll_call ? (line.roll_call.present ? "present" : "absent") : null,
    };
  }

  function apply(change) {
    const site = change.site_id && sites.get(change.site_id);
    const data = change.data || {};
    switch (change.type) {
      case "attendance_confirmed": if (site) { site.answer = "confirmed"; site.headcount = data.headcount || 0; } break;
      case "attendance_declined": if (site) { site.answer = "declined"; } break;
      case "site_checked_in": if (site) { site.checkedIn = true; } break;
      case "technical_check_reported":
        if (site) site.tech = data.picture && data.sound && data.line && data.picture.ok && data.sound.ok && data.line.ok ? "passed" : "failed";
        break;
      case "site_connected": case "site_rejoined": if (site) site.presence = "connected"; break;
      case "site_dropped": if (site) site.presence = "dropped"; break;
      case "roll_called": if (site) site.rollCall = data.present ? "present" : "absent"; break;
      case "roster_rescheduled": case "roster_closed": case "roster_cancelled": case "roster_opened":
        // A change of the whole roster: read the board again.
        restart(); return;
      default: break;
    }
    if (/^(floor_|agenda_)/.test(change.type)) refreshFloor();
    refreshQuorum();
  }

  function matches(site) {
    const q = fold(search.value.trim());
    if (q && site.key.indexOf(q) < 0) return false;
    switch (filter.value) {
      case "confirmed": return site.answer === "confirmed";
      case "declined": return site.answer === "declined";
      case "none": return site.answer === "none";
      case "checked_in": return site.checkedIn;
      case "not_checked_in": return !site.checkedIn;
      case "tech_failed": return site.tech === "failed";
      case "dropped": return site.presence === "dropped";
      default: return true;
    }
  }

  function groupOf(site) {
    switch (groupBy.value) {
      case "answer": return ANSWER[site.answer];
      case "checkin": return site.checkedIn ? "Đã điểm danh" : "Chưa điểm danh";
      case "tech": return TECH[site.tech || "not_checked"];
      case "presence": return PRESENCE[site.presence] || site.presence;
      case "unit": return (site.name || "").split(/\s+/).slice(0, 2).join(" ") || "—";
      default: return "";
    }
  }

  function tile(site) {
    const el = document.createElement("article");
    el.className = "tile";
    el.dataset.site = site.id;
    el.dataset.answer = site.answer;
    el.dataset.checkedIn = String(site.checkedIn);
    el.dataset.tech = site.tech || "not_checked";
    el.dataset.presence = site.presence;
    el.setAttribute("aria-label", site.name);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = site.name;
    const id = document.createElement("span");
    id.className = "id";
    id.textContent = site.id;
    const facts = document.createElement("ul");
    const answer = ANSWER[site.answer] + (site.answer === "confirmed" && site.headcount ? " · " + site.headcount + " người" : "");
    for (const text of [answer, site.checkedIn ? "Đã điểm danh" : "Chưa điểm danh", TECH[site.tech || "not_checked"], PRESENCE[site.presence] || site.presence]) {
      const li = document.createElement("li");
      li.textContent = text;
      facts.appendChild(li);
    }
    if (site.rollCall) {
      const li = document.createElement("li");
      li.textContent = site.rollCall === "present" ? "Điểm danh: có mặt" : "Điểm danh: vắng";
      facts.appendChild(li);
    }
    el.append(name, id, facts);
    return el;
  }

  function renderCounts() {
    const c = { total: 0, confirmed: 0, declined: 0, none: 0, checkedIn: 0, passed: 0, failed: 0, connected: 0 };
    for (const site of sites.values()) {
      c.total++;
      c[site.answer]++;
      if (site.checkedIn) c.checkedIn++;
      if (site.tech === "passed") c.passed++;
      if (site.tech === "failed") c.failed++;
      if (site.presence === "connected") c.connected++;
    }
    const rows = [
      ["Điểm cầu", c.total], ["Đã xác nhận", c.confirmed], ["Báo vắng", c.declined], ["Chưa phản hồi", c.none],
      ["Đã điểm danh", c.checkedIn], ["Kỹ thuật đạt", c.passed], ["Kỹ thuật chưa đạt", c.failed], ["Đang trực tuyến", c.connected],
    ];
    countsBox.replaceChildren();
    for (const [label, value] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = String(value);
      dd.dataset.count = label;
      countsBox.append(dt, dd);
    }
  }

  let scheduled = false;
  function render() {
    if (scheduled) return;
    scheduled = true;
    // A timer, not requestAnimationFrame: a board left in a background tab must still keep up.
    setTimeout(function () {
      scheduled = false;
      renderCounts();
      let shown = order.map(function (id) { return sites.get(id); }).filter(function (s) { return s && matches(s); });
      if (groupBy.value !== "none") {
        const keyed = shown.map(function (s, i) { return [groupOf(s), i, s]; });
        keyed.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]; });
        shown = keyed.map(function (k) { return k[2]; });
      }
      const size = Number(pageSize.value) || 200;
      const pages = Math.max(1, Math.ceil(shown.length / size));
      page = Math.min(page, pages - 1);
      const slice = shown.slice(page * size, (page + 1) * size);
      const frag = document.createDocumentFragment();
      let group = null;
      for (const site of slice) {
        if (groupBy.value !== "none") {
          const g = groupOf(site);
          if (g !== group) {
            group = g;
            const h = document.createElement("h3");
            h.className = "group";
            h.textContent = g;
            frag.appendChild(h);
          }
        }
        frag.appendChild(tile(site));
      }
      tilesBox.replaceChildren(frag);
      pageLabel.textContent = "Trang " + (page + 1) + " / " + pages + " · " + shown.length + " điểm cầu";
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }, 30);
  }

  async function post(path) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ conference_id: conference }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : String(response.status));
    return body;
  }

  let quorumTimer = null;
  function refreshQuorum() {
    if (quorumTimer) return;
    quorumTimer = setTimeout(async function () {
      quorumTimer = null;
      const box = document.getElementById("quorum");
      try {
        const q = await post("/v1/attendance/quorum");
        box.textContent = (q.quorate ? "Đủ số lượng" : "Chưa đủ số lượng") + " · có mặt " + q.present + "/" + q.total +
          (q.rule ? " · cần " + q.required : "") + (q.note ? " · " + q.note : "");
        box.dataset.quorate = String(q.quorate);
      } catch (e) { box.textContent = "Không đọc được: " + e.message; }
    }, 700);
  }

  let floorTimer = null;
  function refreshFloor() {
    if (floorTimer) return;
    floorTimer = setTimeout(async function () {
      floorTimer = null;
      const speaking = document.getElementById("dang-noi");
      const queue = document.getElementById("hang-doi");
      try {
        const f = await post("/v1/attendance/floor");
        const name = function (id) { const s = sites.get(id); return s ? s.name : id; };
        speaking.textContent = f.speaking ? "Đang phát biểu: " + name(f.speaking.site_id) + (f.speaking.topic ? " — " + f.speaking.topic : "") : "Chưa có ai phát biểu";
        queue.replaceChildren();
        for (const r of f.queue || []) {
          const li = document.createElement("li");
          li.textContent = name(r.site_id) + (r.topic ? " — " + r.topic : "");
          queue.appendChild(li);
        }
      } catch (e) { speaking.textContent = "Không đọc được: " + e.message; }
    }, 300);
  }

  function restart() {
    if (source) source.close();
    connect();
  }

  function connect() {
    statusLine.textContent = "Đang kết nối…";
    source = new EventSource("/v1/attendance/board/" + encodeURIComponent(conference) + "/events");
    source.addEventListener("snapshot", function (e) {
      const board = JSON.parse(e.data);
      sites.clear();
      order = [];
      for (const line of board.roster.sites) {
        const site = fromLine(line);
        sites.set(site.id, site);
        order.push(site.id);
      }
      root.dataset.seq = e.lastEventId;
      statusLine.textContent = "Trực tiếp · cập nhật tức thời";
      render();
      refreshQuorum();
      refreshFloor();
    });
    source.addEventListener("change", function (e) {
      root.dataset.seq = e.lastEventId;
      apply(JSON.parse(e.data));
      render();
    });
    source.addEventListener("error", function (e) {
      if (e.data) {
        try { statusLine.textContent = "Lỗi: " + JSON.parse(e.data).error.message; } catch (_) { statusLine.textContent = "Lỗi"; }
      } else {
        statusLine.textContent = "Mất kết nối, đang kết nối lại…";
      }
    });
    source.addEventListener("open", function () {
      if (sites.size) statusLine.textContent = "Trực tiếp · cập nhật tức thời";
    });
  }

  for (const el of [search, filter, groupBy, pageSize]) {
    el.addEventListener("input", function () { page = 0; render(); });
    el.addEventListener("change", function () { page = 0; render(); });
  }
  document.getElementById("bo-loc").addEventListener("submit", function (e) { e.preventDefault(); });
  prev.addEventListener("click", function () { page = Math.max(0, page - 1); render(); });
  next.addEventListener("click", function () { page++; render(); });
  connect();
})();

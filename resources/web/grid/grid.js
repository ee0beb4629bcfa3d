// 网格员手机页: live task list over a WebSocket (pushes acked once, shown once per task id).
"use strict";
(function () {
  const base = JSON.parse(document.getElementById("page-config").textContent).base;
  const tasks = new Map(); // task id -> latest view (by version)
  const cards = new Map(); // task id -> element
  const acked = new Set(); // task ids acked on this page
  const readSent = new Set();
  const stats = { toasts: [], beeps: 0, acks: [], messages: 0, connects: 0 };
  window.__hall = stats;
  // what share.js (position sharing) hooks into: send on the socket, and be told of
  // the socket opening, each message, and each task action done
  const hooks = { open: [], message: [], acted: [] };
  window.HallPhone = {
    send: function (obj) { send(obj); },
    on: function (what, fn) { hooks[what].push(fn); },
  };
  function fire(what, arg) {
    hooks[what].forEach(function (fn) { try { fn(arg); } catch (e) { /* a hook's bug */ } });
  }
  let ws = null;
  let backoff = 500;
  let audio = null;

  const LABEL = { accept: "接单", return: "退回", arrive: "到场", feedback: "反馈" };
  const $ = (sel, el) => (el || document).querySelector(sel);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setConn(ok, text) {
    const c = $("#conn");
    c.textContent = text;
    c.className = "conn " + (ok ? "ok" : "bad");
  }

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const t = audio.currentTime;
      [0, 0.25].forEach(function (d) {
        const o = audio.createOscillator();
        const g = audio.createGain();
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.25, t + d);
        g.gain.exponentialRampToValueAtTime(0.001, t + d + 0.2);
        o.connect(g).connect(audio.destination);
        o.start(t + d);
        o.stop(t + d + 0.2);
      });
      stats.beeps += 1;
    } catch (e) {
      /* no audio on this device: the toast still shows */
    }
  }

  let toastTimer = null;
  function toast(text) {
    const t = $("#toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 6000);
  }

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
  }

  function fmt(iso) {
    if (!iso) return "";
    // the hall's time zone (Beijing time), whatever the phone is set to
    const parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit",
      minute: "2-digit", hour12: false,
    }).formatToParts(new Date(iso)).forEach(function (x) { parts[x.type] = x.value; });
    return parts.month + "月" + parts.day + "日 " + parts.hour + ":" + parts.minute;
  }

  async function post(url, body, raw) {
    const init = { method: "POST", credentials: "same-origin" };
    if (raw) { init.body = body; } else {
      init.body = JSON.stringify(body || {});
      init.headers = { "Content-Type": "application/json" };
    }
    let r;
    try { r = await fetch(url, init); } catch (e) {
      return { ok: false, data: { message: "网络不通，请稍后重试" } };
    }
    let data = {};
    try { data = await r.json(); } catch (e) { data = { message: "服务器返回错误（" + r.status + "）" }; }
    return { ok: r.ok, status: r.status, data: data };
  }

  function showMsg(card, text, bad) {
    const m = $(".msg", card);
    m.textContent = text;
    m.className = "msg " + (bad ? "error" : "muted");
  }

  async function act(id, action, note, photos) {
    const card = cards.get(id);
    const res = await post(base + "/api/tasks/" + encodeURIComponent(id) + "/" + action,
      { note: note || "", photos: photos || [] });
    if (!res.ok) { showMsg(card, res.data.message || "操作失败", true); return false; }
    upsert(res.data.task, false);
    showMsg(card, LABEL[action] + "成功", false);
    fire("acted", action);
    return true;
  }

  function openForm(id, kind) {
    const card = cards.get(id);
    const slot = $(".form-slot", card);
    slot.innerHTML = "";
    const f = el("div", "form " + kind + "-form");
    if (kind === "return") {
      f.append(el("label", "", "退回原因（必填）"));
      const ta = el("textarea", "reason");
      ta.placeholder = "例如：不在本网格，请改派";
      f.append(ta);
      const b = el("button", "warn submit-return", "确认退回");
      b.onclick = async function () {
        if (!ta.value.trim()) { showMsg(card, "请填写退回原因", true); return; }
        b.disabled = true;
        if (await act(id, "return", ta.value.trim())) slot.innerHTML = "";
        b.disabled = false;
      };
      f.append(b);
    } else {
      f.append(el("label", "", "处置情况（必填）"));
      const ta = el("textarea", "feedback-text");
      ta.placeholder = "现场情况、处置结果";
      f.append(ta);
      f.append(el("label", "", "现场照片（JPG/PNG/WebP，每张不超过 5 MB，最多 9 张）"));
      const file = el("input", "photo-input");
      file.type = "file";
      file.accept = "image/jpeg,image/png,image/webp";
      file.multiple = true;
      f.append(file);
      const b = el("button", "submit-feedback", "提交反馈");
      b.onclick = async function () {
        if (!ta.value.trim()) { showMsg(card, "请填写处置情况", true); return; }
        b.disabled = true;
        const ids = [];
        for (const fl of Array.from(file.files || [])) {
          showMsg(card, "正在上传 " + fl.name + " …", false);
          const r = await post(base + "/api/tasks/" + encodeURIComponent(id) + "/photos", fl, true);
          if (!r.ok) {
            showMsg(card, fl.name + "：" + (r.data.message || "上传失败"), true);
            b.disabled = false;
            return;
          }
          ids.push(r.data.id);
        }
        if (await act(id, "feedback", ta.value.trim(), ids)) slot.innerHTML = "";
        b.disabled = false;
      };
      f.append(b);
    }
    const cancel = el("button", "secondary", "取消");
    cancel.onclick = function () { slot.innerHTML = ""; };
    f.append(cancel);
    slot.append(f);
  }

  function render(t) {
    let card = cards.get(t.id);
    if (!card) {
      card = el("section", "card task");
      card.dataset.taskId = t.id;
      card.append(el("div", "view"), el("div", "actions"), el("div", "form-slot"), el("div", "msg"));
      cards.set(t.id, card);
      $("#tasks").prepend(card);
    }
    card.dataset.state = t.state;
    const v = $(".view", card);
    v.innerHTML = "";
    const head = el("div", "head");
    head.append(el("span", "pill prio-" + t.priority, t.priority_label),
      el("span", "pill state", t.state_label), el("span", "id", t.id));
    v.append(head, el("div", "instruction", t.instruction));
    if (t.note) v.append(el("div", "note", "值班员附言：" + t.note));
    v.append(el("div", "muted", "派发时间：" + fmt(t.sent_at)));
    if (t.return_reason) v.append(el("div", "muted", "退回原因：" + t.return_reason));
    if (t.feedback_text) v.append(el("div", "", "我的反馈：" + t.feedback_text));
    if (t.feedback_photos.length) {
      const ph = el("div", "photos");
      t.feedback_photos.forEach(function (u) { const i = el("img"); i.src = u; ph.append(i); });
      v.append(ph);
    }
    if (t.evidence.length) {
      const ev = el("div", "evidence");
      ev.append(el("span", "", "现场证据："));
      t.evidence.forEach(function (a) {
        const link = el("a", "", (a.kind === "clip" ? "录像 " : "快照 ") + a.name);
        link.href = a.url;
        link.title = "SHA-256 " + a.sha256;
        ev.append(link, document.createTextNode(" "));
      });
      v.append(ev);
    }
    const acts = $(".actions", card);
    acts.innerHTML = "";
    ["accept", "arrive", "feedback", "return"].forEach(function (a) {
      if (t.actions.indexOf(a) < 0) return;
      const b = el("button", "act-" + a + (a === "return" ? " secondary" : ""), LABEL[a]);
      b.onclick = function () {
        if (a === "return" || a === "feedback") { openForm(t.id, a); return; }
        b.disabled = true;
        act(t.id, a).then(function () { b.disabled = false; });
      };
      acts.append(b);
    });
    $("#empty").hidden = cards.size > 0;
  }

  function markRead(t) {
    if (document.visibilityState !== "visible") return;
    if ((t.state === "sent" || t.state === "delivered") && !readSent.has(t.id)) {
      readSent.add(t.id);
      send({ type: "read", id: t.id });
    }
  }

  function upsert(t, pushed) {
    const cur = tasks.get(t.id);
    if (cur && cur.version > t.version) return; // an older view arrived late
    const isNew = !cur && !cards.has(t.id);
    if (t.closed) {
      tasks.delete(t.id);
      const c = cards.get(t.id);
      if (c) { c.remove(); cards.delete(t.id); }
      $("#empty").hidden = cards.size > 0;
      return;
    }
    tasks.set(t.id, t);
    if (t.need_ack) { // the hub's ack is idempotent: resend after a reconnect too
      if (!acked.has(t.id)) { acked.add(t.id); stats.acks.push(t.id); }
      send({ type: "ack", id: t.id });
    }
    render(t);
    if (isNew && pushed && (t.need_ack || t.state === "sent")) {
      stats.toasts.push(t.id);
      cards.get(t.id).classList.add("new");
      toast("新任务：" + t.instruction.split("\n").find(function (l) { return l.trim(); }));
      beep();
    }
    markRead(t);
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + location.host + base + "/ws");
    setConn(false, "连接中…");
    ws.onopen = function () {
      backoff = 500; stats.connects += 1; setConn(true, "在线"); fire("open");
    };
    ws.onmessage = function (ev) {
      stats.messages += 1;
      const m = JSON.parse(ev.data);
      if (m.type === "hello") {
        const open = new Set(m.tasks.map(function (t) { return t.id; }));
        cards.forEach(function (c, id) { if (!open.has(id)) { c.remove(); cards.delete(id); tasks.delete(id); } });
        m.tasks.forEach(function (t) { upsert(t, true); });
        $("#empty").hidden = cards.size > 0;
      } else if (m.type === "task") {
        upsert(m.task, true);
      } else {
        fire("message", m);
      }
    };
    ws.onclose = function () {
      setConn(false, "离线，重连中");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  document.addEventListener("click", function (ev) {
    if (ev.target.closest && (ev.target.closest("#toast") || ev.target.closest("button"))) {
      $("#toast").hidden = true;
    }
  });
  document.addEventListener("visibilitychange", function () { tasks.forEach(markRead); });
  document.addEventListener("DOMContentLoaded", connect);
})();

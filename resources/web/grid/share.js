// 网格员手机页: "共享我的位置（仅用于指挥调度）". Off by default; the choice is kept on this
// phone only (localStorage, per link). On: the phone's position goes to the hub over the
// page's WebSocket at most once a minute and after each task action; off: a withdrawal
// (position_off), sent as soon as the socket is open, and the hub forgets the position.
"use strict";
(function () {
  const base = JSON.parse(document.getElementById("page-config").textContent).base;
  const KEY = "hall.share." + base;
  const OFF_KEY = "hall.share-off." + base; // a withdrawal not yet confirmed by the hub
  const EVERY_MS = 60000;
  const stats = { sent: 0, off: 0, replies: [] };
  window.__hallShare = stats;
  let lastSent = 0;
  let timer = null;

  function stored(key) {
    try { return localStorage.getItem(key) === "1"; } catch (e) { return false; }
  }
  function store(key, on) {
    try { if (on) localStorage.setItem(key, "1"); else localStorage.removeItem(key); } catch (e) { /* private mode */ }
  }
  function say(text, bad) {
    const m = document.getElementById("share-msg");
    m.textContent = text;
    m.className = "share-msg " + (bad ? "error" : "muted");
  }
  function hhmm(iso) {
    const parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false,
    }).formatToParts(new Date(iso)).forEach(function (x) { parts[x.type] = x.value; });
    return parts.hour + ":" + parts.minute;
  }

  function sendFix(force) {
    if (!stored(KEY) || !navigator.geolocation) return;
    const now = Date.now();
    if (!force && now - lastSent < EVERY_MS) return;
    lastSent = now;
    navigator.geolocation.getCurrentPosition(function (p) {
      if (!stored(KEY)) return; // turned off meanwhile
      window.HallPhone.send({
        type: "position", lon: p.coords.longitude, lat: p.coords.latitude,
        accuracy_m: p.coords.accuracy,
      });
      stats.sent += 1;
    }, function (err) {
      say("无法获取位置：" + (err.message || "定位被拒绝或不可用"), true);
    }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 30000 });
  }

  function sendOff() {
    if (stored(OFF_KEY)) { window.HallPhone.send({ type: "position_off" }); stats.off += 1; }
  }

  function apply(on) {
    store(KEY, on);
    clearInterval(timer);
    timer = null;
    if (on) {
      store(OFF_KEY, false);
      if (!navigator.geolocation) { say("本机不支持定位", true); return; }
      say("正在获取位置…", false);
      timer = setInterval(function () { sendFix(false); }, EVERY_MS);
      sendFix(true);
    } else {
      store(OFF_KEY, true);
      say("未共享位置", false);
      sendOff();
    }
  }

  window.HallPhone.on("open", function () {
    if (stored(KEY)) sendFix(true); else sendOff();
  });
  window.HallPhone.on("acted", function () { sendFix(true); });
  window.HallPhone.on("message", function (m) {
    if (m.type === "position_shared") {
      stats.replies.push(m.shared ? "shared" : "off");
      if (m.shared) say("已共享位置 " + hhmm(m.at), false);
      else { store(OFF_KEY, false); if (!stored(KEY)) say("未共享位置（已通知中心删除）", false); }
    } else if (m.type === "error" && m.code === "position") {
      stats.replies.push("refused");
      say(m.message, true);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.getElementById("share-pos");
    box.checked = stored(KEY);
    box.addEventListener("change", function () { apply(box.checked); });
    if (box.checked) {
      timer = setInterval(function () { sendFix(false); }, EVERY_MS);
      say("正在获取位置…", false);
    }
  });
})();

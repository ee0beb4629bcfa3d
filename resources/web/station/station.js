/* 值班点视频点名页: presence over a WebSocket, ringing with a countdown and a sound,
   answer with camera and microphone (one peer connection to the hub: sendonly camera and
   microphone plus one recvonly video+audio pair where the hall — 县综治中心 — shows when
   a console joins the call), decline. The hall's picture is the large video, its sound
   plays from an <audio> element; until it comes the page says 等待指挥中心画面….
   Without a camera (not a secure context, camera refused, missing or busy: window.HallMedia
   says which, in Chinese, at the top of the page) the page still answers: receive-only
   (it sees the county), and the answer tells the hub `no_camera` with the reason, so the
   roll call logs 应答（无画面）. The presence line never stays on 连接中…: after
   CONNECT_WAIT_MS without a socket it says the connection failed and keeps retrying.
   window.STATION_STATE exposes the state for tests (hallFrames: the hall's video frames
   painted, counted with requestVideoFrameCallback; noCamera: the reason, or null). */
"use strict";
(function () {
  const CFG = JSON.parse(document.getElementById("page-config").textContent);
  const BASE = "/s/" + CFG.token;
  const $ = (id) => document.getElementById(id);
  const S = (window.STATION_STATE = {
    online: false, ringing: null, rings: 0, calls: 0, pc: null, log: [], autoAnswer: null,
    hallFrames: 0, hallAudio: false, hallPresent: false, hallSize: null, noCamera: null,
    connectFailed: false,
  });
  const M = window.HallMedia;
  const MEDIA = { video: { width: 640, height: 480 }, audio: true };
  const CONNECT_WAIT_MS = 8000;
  const OFFER_WAIT_MS = 15000;
  let ws = null;
  let timer = null;
  let audio = null;
  let local = null;

  function log(m) { S.log.push(Date.now() + " " + m); if (S.log.length > 200) S.log.shift(); }
  function show(id) { for (const s of ["idle", "ringing", "incall"]) $(s).hidden = s !== id; }
  // ICE servers for the next connection: fresh TURN credentials from the hub, else the page's
  async function iceConfig() {
    try {
      const r = await fetch(BASE + "/ice", { credentials: "same-origin", cache: "no-store" });
      if (r.ok) return await r.json();
    } catch (e) { log("ice " + e); }
    return { iceServers: CFG.ice_servers || [], iceTransportPolicy: CFG.ice_policy || "all" };
  }
  const TURN_REFUSED = "中继服务器拒绝了连接凭据（已过期或无效），请刷新页面重试；仍不行请联系县综治中心";
  function watchTurn(pc, say) {
    pc.addEventListener("icecandidateerror", (e) => {
      log("ice error " + e.errorCode + " " + (e.url || ""));
      if (e.errorCode === 401 || e.errorCode === 403 || e.errorCode === 437) { S.refused = e.errorCode; say(TURN_REFUSED); }
    });
  }
  function presence(on) {
    S.online = on;
    const p = $("presence");
    p.textContent = on ? "在线" : (S.connectFailed ? p.textContent : "离线，正在重连…");
    p.className = "presence " + (on ? "online" : (S.connectFailed ? "offline failed" : "offline"));
  }
  // no socket after CONNECT_WAIT_MS: say what failed (and keep trying)
  let connectTimer = null;
  function armConnectTimer() {
    if (connectTimer) clearTimeout(connectTimer);
    connectTimer = setTimeout(() => {
      if (S.online) return;
      S.connectFailed = true;
      const p = $("presence");
      p.textContent = navigator.onLine === false
        ? "连接失败：本机没有网络，请检查网线或 Wi-Fi（正在重试）"
        : "连接失败：无法连接到县综治中心服务器，请检查网络，或联系县综治中心（正在重试）";
      p.className = "presence offline failed";
    }, CONNECT_WAIT_MS);
  }
  function noCamera(kind, detail) {
    S.noCamera = kind;
    local = null;
    $("preview").hidden = true;
    if (M) M.show(kind, detail);
    log("no camera: " + kind + (detail ? " " + detail : ""));
  }
  async function camera() {
    if (local || S.noCamera === "insecure") return local;
    try {
      local = await (M ? M.open(MEDIA) : navigator.mediaDevices.getUserMedia(MEDIA));
      S.noCamera = null;
      if (M) M.hide();
      $("preview").hidden = false;
      $("preview").srcObject = local;
    } catch (e) {
      noCamera(M ? M.kindOf(e) : "other", e.message);
    }
    return local;
  }
  // Browsers start audio suspended until the page is touched once: the page asks for
  // that click (the station page is left open, so once is enough).
  let actx = null;
  try { actx = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { log("audio: " + e.message); }
  function soundHint() {
    const h = $("sound-hint");
    if (h) h.hidden = !actx || actx.state !== "suspended";
  }
  document.addEventListener("click", () => { if (actx && actx.state === "suspended") actx.resume().then(soundHint); });
  function beep(on) {
    try {
      if (on && !audio && actx) {
        const osc = actx.createOscillator();
        const gain = actx.createGain();
        osc.frequency.value = 880; gain.gain.value = 0.2;
        osc.connect(gain); gain.connect(actx.destination); osc.start();
        const iv = setInterval(() => { gain.gain.value = gain.gain.value ? 0 : 0.2; }, 500);
        audio = { osc, iv };
        S.sound = actx.state;
      } else if (!on && audio) {
        clearInterval(audio.iv); audio.osc.stop(); audio = null;
      }
    } catch (e) { log("sound: " + e.message); }
  }
  function stopRing() {
    if (timer) { clearInterval(timer); timer = null; }
    beep(false);
    S.ringing = null;
  }
  function ring(msg) {
    S.ringing = msg.call_id; S.rings += 1;
    show("ringing");
    let left = Math.ceil(msg.left_s);
    const end = performance.now() + msg.left_s * 1000;
    $("countdown").textContent = String(left);
    if (timer) clearInterval(timer);
    timer = setInterval(() => {
      left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      $("countdown").textContent = String(left);
      if (left <= 0) { stopRing(); show("idle"); }
    }, 250);
    beep(true);
    if (S.autoAnswer === "answer") answer();
    else if (S.autoAnswer === "decline") decline();
  }
  function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }
  function decline() {
    const id = S.ringing; if (!id) return;
    send({ type: "decline", call_id: id });
    stopRing(); show("idle"); $("last").textContent = "已拒接一次点名";
  }
  function keepHosts(sdp) {
    const keep = CFG.keep_hosts || [];
    if (!keep.length) return sdp;
    return sdp.split("\r\n").filter((l) => !l.startsWith("a=candidate:") || keep.includes(l.split(" ")[4])).join("\r\n");
  }
  function gathered(pc, ms) {
    return new Promise((res) => {
      if (pc.iceGatheringState === "complete") return res();
      const t = setTimeout(res, ms);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") { clearTimeout(t); res(); }
      });
    });
  }
  async function answer() {
    const id = S.ringing; if (!id) return;
    stopRing();
    await camera();
    send(S.noCamera ? { type: "answer", call_id: id, no_camera: S.noCamera } : { type: "answer", call_id: id });
    show("incall");
    $("call-status").textContent = S.noCamera ? "正在接通（本机无摄像头画面，只接收县综治中心画面）…" : "正在接通…";
    try {
      $("self").srcObject = local;
      const pc = new RTCPeerConnection(await iceConfig());
      S.pc = pc;
      watchTurn(pc, (m) => { $("call-status").textContent = m; });
      if (local) for (const t of local.getTracks()) pc.addTransceiver(t, { direction: "sendonly", streams: [local] });
      pc.addTransceiver("video", { direction: "recvonly" });  // the hall (县综治中心)
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.ontrack = onTrack;
      hallStream = null; hallWaiting(true);
      pc.onconnectionstatechange = () => {
        log("pc " + pc.connectionState);
        if (pc.connectionState === "connected" && !S.hallPresent) $("call-status").textContent = "已接通，等待指挥中心画面…";
        if (pc.connectionState === "failed" && S.pc === pc && !S.refused) {
          $("call-status").textContent = "接通失败：音视频连接不通（网络或防火墙阻断），请检查网络，或联系县综治中心";
        }
      };
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 2000);
      const abort = new AbortController();
      const t = setTimeout(() => abort.abort(), OFFER_WAIT_MS);
      let r;
      try {
        r = await fetch(BASE + "/offer?call=" + encodeURIComponent(id), {
          method: "POST", headers: { "Content-Type": "application/sdp" },
          body: keepHosts(pc.localDescription.sdp), credentials: "same-origin", signal: abort.signal,
        });
      } catch (e) {
        throw new Error(abort.signal.aborted ? "服务器 " + OFFER_WAIT_MS / 1000 + " 秒内没有应答" : "网络错误");
      } finally { clearTimeout(t); }
      const text = await r.text();
      if (r.status !== 201) throw new Error(r.status + " " + text);
      await pc.setRemoteDescription({ type: "answer", sdp: text });
      S.calls += 1;
    } catch (e) {
      log("answer failed: " + e.message);
      $("call-status").textContent = "接通失败：" + e.message;
    }
  }
  // The hall's picture: count painted frames (requestVideoFrameCallback) for the tests
  // and hide the waiting note while frames come.
  let hallStream = null;
  function hallWaiting(on) { $("hall-wait").hidden = !on; }
  function countHallFrames() {
    const v = $("hall");
    if (!v.requestVideoFrameCallback) return;
    const tick = (_now, meta) => {
      S.hallFrames += 1;
      S.hallSize = [meta.width, meta.height];
      // only while the hall is there: a frame still in flight when it has left must not
      // hide the waiting note again
      if (S.hallPresent && !$("hall-wait").hidden) hallWaiting(false);
      v.requestVideoFrameCallback(tick);
    };
    v.requestVideoFrameCallback(tick);
  }
  countHallFrames();
  function onTrack(ev) {
    if (!hallStream) {
      hallStream = new MediaStream();
      $("hall").srcObject = hallStream;
      $("hall-audio").srcObject = hallStream;
    }
    hallStream.addTrack(ev.track);
    if (ev.track.kind === "audio") S.hallAudio = true;
    $("hall").play().catch((e) => log("hall video: " + e.message));
    $("hall-audio").play().catch((e) => log("hall audio: " + e.message));
  }
  function hallPresence(m) {
    S.hallPresent = !!m.present;
    if (!m.present) hallWaiting(true);
    $("call-status").textContent = m.present ? "县综治中心已接入画面" : "已接通，等待指挥中心画面…";
  }
  function hangup(msg) {
    stopRing();
    hallStream = null; $("hall").srcObject = null; $("hall-audio").srcObject = null;
    hallWaiting(true); S.hallPresent = false;
    if (S.pc) { try { S.pc.close(); } catch (e) { /* closed */ } S.pc = null; }
    show("idle");
    $("last").textContent = msg.reason === "fault" ? "上次点名因技术故障中断" : "上次点名已结束 " + new Date().toLocaleTimeString("zh-CN");
  }
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + BASE + "/ws");
    ws.onopen = () => { S.connectFailed = false; if (connectTimer) clearTimeout(connectTimer); presence(true); log("ws open"); };
    ws.onclose = () => {
      const was = S.online;
      presence(false); log("ws closed");
      if (was || !connectTimer) armConnectTimer();
      setTimeout(connect, 1000);
    };
    ws.onmessage = (ev) => {
      let m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "ring") ring(m);
      else if (m.type === "cancel") { if (S.ringing === m.call_id) { stopRing(); show("idle"); $("last").textContent = "有一次点名未接听"; } }
      else if (m.type === "hangup") hangup(m);
      else if (m.type === "hall" && S.pc) hallPresence(m);
    };
  }
  $("answer").onclick = answer;
  $("decline").onclick = decline;
  const problem = M ? M.problem() : null;
  if (problem) noCamera(problem);
  else camera();
  soundHint();
  window.stationAnswer = answer;
  window.stationDecline = decline;
  armConnectTimer();
  connect();
})();

/* 远程视频调解 join page: device check, lobby, call with the hub (star), reconnection
   (network loss or a hub restart: backoff 0.5 → 4 s, "连接中断，正在重连…", then back in
   the room), camera/microphone switch mid-call (RTCRtpSender.replaceTrack, no
   renegotiation). A camera or microphone that cannot be used (not a secure context,
   refused, missing, busy) is said in Chinese with what to do (window.HallMedia), never
   an alert. window.HALL exposes the state for tests: frames per participant,
   connections, pc, switches, mediaProblem. */
"use strict";
(function () {
  const CFG = JSON.parse(document.getElementById("page-config").textContent);
  const BASE = CFG.base;
  const MEDIA = window.HallMedia;  // resources/web/common/media.js: the Chinese messages
  const SLOTS = 5;
  const $ = (id) => document.getElementById(id);
  const H = (window.HALL = {
    frames: {}, fps: {}, connections: 0, joinAt: 0, firstFrameMs: null, state: null,
    pc: null, ws: null, rejoins: 0, iceRestarts: 0, log: [],
    epoch: null, hubRestarts: 0, wsOpens: 0, switches: 0,
  });
  const LOST = "连接中断，正在重连…";
  const BACKOFF_MIN = 500, BACKOFF_MAX = 4000;
  let wsDelay = BACKOFF_MIN, joinDelay = BACKOFF_MIN;
  let local = null;
  let wanted = false; // in the call (admitted and not left)
  let left = false;
  const tiles = {}; // peer id -> {el, video, audio, mid}

  function log(m) { H.log.push(Date.now() + " " + m); if (H.log.length > 200) H.log.shift(); }
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
      if (e.errorCode === 401 || e.errorCode === 403 || e.errorCode === 437) { H.refused = e.errorCode; say(TURN_REFUSED); }
    });
  }
  function setConn(text, cls) { const c = $("conn"); c.textContent = text; c.className = "conn " + (cls || ""); }
  function show(id) {
    for (const s of ["setup", "lobby", "call", "ended"]) $(s).hidden = s !== id;
  }

  // -- devices ------------------------------------------------------------------------
  function constraints(kind, id) {
    if (kind === "video") return { width: 640, height: 480, frameRate: 25, ...(id ? { deviceId: { exact: id } } : {}) };
    return id ? { deviceId: { exact: id } } : true;
  }
  async function openMedia() {
    const cam = $("cam").value, mic = $("mic").value;
    if (local) local.getTracks().forEach((t) => t.stop());
    local = null;
    local = await MEDIA.open({ video: constraints("video", cam), audio: constraints("audio", mic) });
    MEDIA.hide();
    $("preview").srcObject = local;
    meter(local);
  }
  // another camera or microphone while in the call: the new track replaces the old one
  // on its sender (RTCRtpSender.replaceTrack: no new offer, the others keep receiving)
  async function switchDevice(kind, id) {
    if (!local) return;
    const old = kind === "video" ? local.getVideoTracks()[0] : local.getAudioTracks()[0];
    if (old && old.getSettings().deviceId === id) return;
    const got = await MEDIA.open({ [kind]: constraints(kind, id) });
    const track = got.getTracks()[0];
    if (old) track.enabled = old.enabled;
    const pc = H.pc;
    if (pc && pc.signalingState !== "closed") {
      const sender = pc.getSenders().find((x) => x.track && x.track.kind === kind) ||
        pc.getTransceivers().find((t) => t.direction === "sendonly" && t.sender.track === old)?.sender;
      if (sender) await sender.replaceTrack(track);
    }
    if (old) { local.removeTrack(old); old.stop(); }
    local.addTrack(track);
    for (const [a, b] of [["cam", "call-cam"], ["mic", "call-mic"]]) {
      if ((kind === "video") === (a === "cam")) { $(a).value = id; $(b).value = id; }
    }
    H.switches += 1;
    log("switched " + kind + " to " + track.label);
    if (kind === "audio") meter(local);
  }
  H.switchDevice = switchDevice;
  async function listDevices() {
    const devs = await navigator.mediaDevices.enumerateDevices();
    H.devices = devs.map((d) => ({ kind: d.kind, id: d.deviceId, label: d.label }));
    for (const [sel, kind] of [[$("cam"), "videoinput"], [$("mic"), "audioinput"],
      [$("call-cam"), "videoinput"], [$("call-mic"), "audioinput"]]) {
      const cur = sel.value;
      sel.innerHTML = "";
      devs.filter((d) => d.kind === kind).forEach((d, i) => {
        const o = document.createElement("option");
        o.value = d.deviceId; o.textContent = d.label || (kind === "videoinput" ? "摄像头 " : "麦克风 ") + (i + 1);
        sel.appendChild(o);
      });
      if (cur) sel.value = cur;
    }
  }
  let meterCtx = null;
  function meter(stream) {
    try {
      meterCtx = meterCtx || new AudioContext();
      const an = meterCtx.createAnalyser();
      meterCtx.createMediaStreamSource(stream).connect(an);
      const buf = new Uint8Array(an.fftSize);
      const tick = () => {
        an.getByteTimeDomainData(buf);
        let s = 0; for (const v of buf) s += (v - 128) * (v - 128);
        $("level").style.width = Math.min(100, Math.sqrt(s / buf.length) * 4) + "%";
        if (!$("setup").hidden) requestAnimationFrame(tick);
      };
      tick();
    } catch (e) { log("meter: " + e); }
  }

  // -- signalling socket ------------------------------------------------------------------
  function openSocket() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + BASE + "/ws");
    H.ws = ws;
    ws.onmessage = (e) => onMessage(JSON.parse(e.data));
    ws.onclose = () => {
      if (left || H.ws !== ws) return;
      setConn(LOST, "bad");
      setTimeout(openSocket, wsDelay);
      wsDelay = Math.min(wsDelay * 2, BACKOFF_MAX);
    };
    ws.onopen = () => {
      wsDelay = BACKOFF_MIN; H.wsOpens += 1;
      const pc = H.pc;
      setConn(pc && pc.connectionState === "connected" ? "通话中" : "已连接", "ok");
      sendMedia();
    };
  }
  function send(msg) { if (H.ws && H.ws.readyState === 1) H.ws.send(JSON.stringify(msg)); }
  function sendMedia() {
    if (!local) return;
    const a = local.getAudioTracks()[0], v = local.getVideoTracks()[0];
    send({ type: "media", audio: !!(a && a.enabled), video: !!(v && v.enabled) });
  }

  function onMessage(m) {
    if (m.type === "state") {
      H.state = m;
      // another hub process (a restart): our connection is gone with the old one
      const restarted = H.epoch !== null && m.epoch && m.epoch !== H.epoch;
      if (m.epoch) H.epoch = m.epoch;
      const JANUS = window.MediationJanus;
      if (m.janus && JANUS) {  // the session runs on Janus (mediation-janus.js)
        if (m.closed) return ended("调解已结束", "本次远程调解会话已经结束，感谢参与。");
        $("who").textContent = m.me.label + " " + m.me.name;
        $("rec").hidden = !m.recording;
        if (!wanted && !left) {
          wanted = true; show("call");
          JANUS.start(m, local, H, setConn).catch((e) => {
            log("janus: " + (e.code || "") + " " + e.message);
            setConn("无法加入（" + (e.code || "") + "）：" + e.message, "bad");
          });
        }
        JANUS.update(m);
        return;
      }
      if (restarted) {
        H.hubRestarts += 1; log("hub restarted");
        if (wanted && H.pc) { setConn(LOST, "bad"); H.rejoins += 1; join(); }
      }
      $("who").textContent = m.me.label + " " + m.me.name;
      $("rec").hidden = !m.recording;
      if (m.closed) return ended("调解已结束", "本次远程调解会话已经结束，感谢参与。");
      if (!m.me.admitted) { if (!left) show("lobby"); return; }
      if (!wanted) { wanted = true; show("call"); join(); }
      render(m);
    } else if (m.type === "recording") {
      $("rec").hidden = !m.on;
    } else if (m.type === "removed" && H.state && m.id === H.state.me.id) {
      ended("您已被移出会议", "主持人已将您移出本次调解。如有疑问请联系综治中心。");
    } else if (m.type === "closed") {
      ended("调解已结束", "本次远程调解已结束（" + (m.outcome || "") + "），感谢参与。");
    }
  }

  // -- the call ---------------------------------------------------------------------------
  function gathered(pc, ms) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const t = setTimeout(resolve, ms);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") { clearTimeout(t); resolve(); }
      });
    });
  }
  function keepHosts(sdp) {
    const keep = CFG.keep_hosts || [];
    if (!keep.length) return sdp;
    return sdp.split("\r\n").filter((l) => {
      if (!l.startsWith("a=candidate:")) return true;
      return keep.includes(l.split(" ")[4]);
    }).join("\r\n");
  }
  async function post(sdp, restart) {
    const r = await fetch(BASE + "/offer" + (restart ? "?restart=1" : ""), {
      method: "POST", headers: { "Content-Type": "application/sdp" }, body: sdp, credentials: "same-origin",
    });
    const text = await r.text();
    if (r.status !== 201) { const e = new Error(text); e.status = r.status; throw e; }
    return text;
  }
  async function join() {
    if (left) return;
    const old = H.pc;
    if (old) { try { old.close(); } catch (e) { /* closed already */ } }
    const pc = new RTCPeerConnection(await iceConfig());
    if (left || old !== H.pc) { pc.close(); return; }
    H.pc = pc;
    watchTurn(pc, (m) => setConn(m, "bad"));
    H.joinAt = performance.now();
    H.firstFrameMs = null;
    for (const t of local.getTracks()) pc.addTransceiver(t, { direction: "sendonly", streams: [local] });
    for (let i = 0; i < SLOTS; i++) {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.onconnectionstatechange = () => {
      log("pc " + pc.connectionState);
      if (pc !== H.pc) return;
      if (pc.connectionState === "connected") { joinDelay = BACKOFF_MIN; setConn("通话中", "ok"); }
      else if (pc.connectionState === "failed") { setConn(LOST, "bad"); recover(pc); }
      else if (pc.connectionState === "disconnected") {
        setConn(LOST, "bad");
        setTimeout(() => { if (pc === H.pc && pc.connectionState === "disconnected") recover(pc); }, 2500);
      }
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 2000);
      const answer = await post(keepHosts(pc.localDescription.sdp), false);
      if (pc !== H.pc) return;
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
      H.connections += 1;
      if (H.state) render(H.state);
    } catch (e) {
      log("join failed: " + (e.status || "") + " " + e.message);
      if (e.status === 401 || e.status === 410 || e.status === 404 || e.status === 423) {
        return ended("无法入会", "登录已失效或链接已过期，请联系综治中心。");
      }
      if (e.status === 403) { wanted = false; show("lobby"); return; }
      setConn(LOST, "bad");
      setTimeout(() => { if (pc === H.pc) recover(pc); }, joinDelay);
      joinDelay = Math.min(joinDelay * 2, BACKOFF_MAX);
    }
  }
  let recovering = false;
  async function recover(pc) {
    if (recovering || left || pc !== H.pc) return;
    recovering = true;
    setConn(LOST, "bad");
    try {
      // 1) ICE restart on the same connection (an SFU that supports it answers 201);
      // 2) if the media centre refuses or it does not connect, a full rejoin.
      if (pc.signalingState !== "closed") {
        try {
          H.iceRestarts += 1;
          pc.restartIce();
          await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
          await gathered(pc, 2000);
          const answer = await post(keepHosts(pc.localDescription.sdp), true);
          await pc.setRemoteDescription({ type: "answer", sdp: answer });
          for (let i = 0; i < 20 && pc.connectionState !== "connected"; i++) await sleep(250);
          if (pc.connectionState === "connected") { recovering = false; return; }
        } catch (e) { log("ice restart: " + (e.status || "") + " " + e.message); }
      }
      H.rejoins += 1;
      await join();
    } finally { recovering = false; }
  }
  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
  // a connection closed under us fires no event: watch it
  setInterval(() => {
    const pc = H.pc;
    if (wanted && !left && pc && (pc.signalingState === "closed" || pc.connectionState === "closed")) recover(pc);
  }, 1000);

  // -- the grid -----------------------------------------------------------------------------
  function trackOf(mid) {
    const pc = H.pc; if (!pc || !mid) return null;
    const t = pc.getTransceivers().find((x) => x.mid === mid);
    return t ? t.receiver.track : null;
  }
  function tile(id, label, isSelf) {
    let t = tiles[id];
    if (t) return t;
    const el = document.createElement("div"); el.className = "tile"; el.dataset.peer = id;
    const video = document.createElement("video"); video.autoplay = true; video.muted = true; video.playsInline = true;
    const name = document.createElement("div"); name.className = "name"; name.textContent = label;
    const st = document.createElement("div"); st.className = "state";
    el.append(video, name, st);
    $("grid").appendChild(el);
    const audio = isSelf ? null : document.createElement("audio");
    if (audio) { audio.autoplay = true; el.appendChild(audio); }
    t = tiles[id] = { el, video, audio, name, st, vid: null, gen: 0 };
    return t;
  }
  // count decoded frames per participant; a new source (after a rejoin) restarts the chain
  function countFrames(id, t) {
    const gen = ++t.gen;
    const cb = () => {
      if (gen !== t.gen) return;
      H.frames[id] = (H.frames[id] || 0) + 1;
      if (H.firstFrameMs === null) H.firstFrameMs = performance.now() - H.joinAt;
      t.video.requestVideoFrameCallback(cb);
    };
    t.video.requestVideoFrameCallback(cb);
  }
  function render(m) {
    const me = tile("self", m.me.label + " " + m.me.name + "（我）", true);
    if (me.video.srcObject !== local) me.video.srcObject = local;
    const seen = new Set(["self"]);
    const info = {};
    for (const p of m.participants) info[p.id] = p;
    for (const s of m.slots) {
      if (!s.peer) continue;
      seen.add(s.peer.id);
      const t = tile(s.peer.id, s.peer.label + " " + s.peer.name, false);
      const vt = trackOf(s.video_mid), at = trackOf(s.audio_mid);
      if (vt && t.vid !== vt) {
        t.vid = vt;
        t.video.srcObject = new MediaStream([vt]);
        t.video.play().catch(() => {});
        countFrames(s.peer.id, t);
        if (at && t.audio) { t.audio.srcObject = new MediaStream([at]); t.audio.play().catch(() => {}); }
      }
      const p = info[s.peer.id] || {};
      t.st.textContent = (p.audio === false ? "🔇 " : "") + (p.video === false ? "摄像头关" : "") + (p.online === false ? "离线" : "");
    }
    for (const id of Object.keys(tiles)) {
      if (!seen.has(id)) { tiles[id].el.remove(); delete tiles[id]; }
    }
  }
  // who is speaking: audio level of the inbound audio per slot (getStats), and fps
  setInterval(async () => {
    const pc = H.pc; if (!pc || !H.state) return;
    try {
      const stats = await pc.getStats();
      const byMid = {};
      stats.forEach((r) => { if (r.type === "inbound-rtp") byMid[r.mid] = r; });
      for (const s of H.state.slots) {
        if (!s.peer || !tiles[s.peer.id]) continue;
        const a = byMid[s.audio_mid], v = byMid[s.video_mid];
        tiles[s.peer.id].el.classList.toggle("speaking", !!(a && a.audioLevel > 0.05));
        if (v) H.fps[s.peer.id] = v.framesPerSecond || 0;
      }
    } catch (e) { /* closed */ }
  }, 500);

  function ended(title, text) {
    left = true; wanted = false;
    if (window.MediationJanus) window.MediationJanus.leave();
    if (H.pc) { try { H.pc.close(); } catch (e) { /* */ } }
    if (H.ws) { try { H.ws.close(); } catch (e) { /* */ } }
    if (local) local.getTracks().forEach((t) => t.stop());
    $("ended-title").textContent = title; $("ended-text").textContent = text;
    $("rec").hidden = true;
    setConn("已离开", "");
    show("ended");
  }

  // -- controls -----------------------------------------------------------------------------
  async function enter() {
    $("enter").disabled = true;
    try {
      if (!local) await openMedia();
      openSocket();
      show("lobby");
    } catch (e) {
      $("enter").disabled = !!MEDIA.problem();
      H.mediaProblem = MEDIA.kindOf(e);
      MEDIA.show(H.mediaProblem, e.message);
    }
  }
  H.enter = enter;
  H.cut = () => { if (H.pc) H.pc.close(); }; // tests: a dropped connection
  window.addEventListener("DOMContentLoaded", async () => {
    show("setup");
    $("who").textContent = (CFG.label || "") + " " + (CFG.name || "");
    H.mediaProblem = MEDIA.problem();
    if (H.mediaProblem) {  // not a secure context: no camera, no microphone at all
      MEDIA.show(H.mediaProblem);
      $("enter").disabled = true;
    } else {
      try { await openMedia(); await listDevices(); } catch (e) {
        log("media: " + e);
        H.mediaProblem = MEDIA.kindOf(e);
        MEDIA.show(H.mediaProblem, e.message);
      }
    }
    const pick = (kind, sel) => async () => {
      try {
        if (wanted && H.pc) await switchDevice(kind, $(sel).value);
        else { await openMedia(); for (const [a, b] of [["cam", "call-cam"], ["mic", "call-mic"]]) $(b).value = $(a).value; }
      } catch (e) { log("device: " + e); MEDIA.show(MEDIA.kindOf(e), e.message); }
    };
    $("cam").onchange = pick("video", "cam"); $("mic").onchange = pick("audio", "mic");
    $("call-cam").onchange = pick("video", "call-cam"); $("call-mic").onchange = pick("audio", "call-mic");
    $("enter").onclick = enter;
    $("mute").onclick = () => {
      const a = local.getAudioTracks()[0]; if (!a) return;
      a.enabled = !a.enabled; $("mute").textContent = a.enabled ? "静音" : "取消静音";
      $("mute").classList.toggle("off", !a.enabled); sendMedia();
    };
    $("camera").onclick = () => {
      const v = local.getVideoTracks()[0]; if (!v) return;
      v.enabled = !v.enabled; $("camera").textContent = v.enabled ? "关闭摄像头" : "打开摄像头";
      $("camera").classList.toggle("off", !v.enabled); sendMedia();
    };
    $("leave").onclick = () => ended("您已离开", "您已离开本次远程调解。如需重新加入，请再次打开链接。");
  });
})();

/* 远程视频调解 on Janus (more than 6 parties, or by the hub's configuration): the page's
   call when its `state` carries a `janus` ticket (room, PIN, this participant's own
   token, display = its participant id). Joins through window.JanusRoom
   (resources/web/common/janus-room.js), publishes the camera and microphone in three
   simulcast layers, subscribes everyone else (the middle layer: a grid tile) and shows
   them in the same grid as the hub's star, named from the state's participants. A Janus
   restart is janus-room.js's own (it rejoins with the same ticket). Counts for tests go
   to window.HALL (frames per participant id, firstFrameMs, janusJoined). */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const SUBSTREAM = 1; // 1/2 size: a tile of the grid
  let room = null;
  let state = null;
  let H = null;
  const tiles = {}; // participant id -> {el, video, audio, name, st, gen}
  // participant ids subscribed; after a Janus restart janus-room.js resubscribes them
  // itself (by display: the feeds change), so they are not subscribed twice
  const subscribed = new Set();

  function label(pid) {
    const p = ((state && state.participants) || []).find((x) => x.id === pid);
    return p ? p.label + " " + p.name : pid;
  }
  function tile(pid, isSelf) {
    let t = tiles[pid];
    if (t) return t;
    const el = document.createElement("div"); el.className = "tile"; el.dataset.peer = pid;
    const video = document.createElement("video"); video.autoplay = true; video.muted = true; video.playsInline = true;
    const name = document.createElement("div"); name.className = "name";
    name.textContent = isSelf ? label(pid) + "（我）" : label(pid);
    const st = document.createElement("div"); st.className = "state";
    el.append(video, name, st);
    const audio = isSelf ? null : document.createElement("audio");
    if (audio) { audio.autoplay = true; el.appendChild(audio); }
    $("grid").appendChild(el);
    t = tiles[pid] = { el, video, audio, name, st, gen: 0 };
    return t;
  }
  function countFrames(pid, t) {
    const gen = ++t.gen;
    const cb = () => {
      if (gen !== t.gen) return;
      H.frames[pid] = (H.frames[pid] || 0) + 1;
      if (H.firstFrameMs === null) H.firstFrameMs = performance.now() - H.joinAt;
      t.video.requestVideoFrameCallback(cb);
    };
    t.video.requestVideoFrameCallback(cb);
  }
  function showFeed(feed, stream) {
    const pid = room && room.publishers.get(feed);
    if (!pid || !stream) return;
    const t = tile(pid, false);
    t.feed = feed;
    t.video.srcObject = stream;
    t.video.play().catch(() => {});
    if (t.audio) { t.audio.srcObject = stream; t.audio.play().catch(() => {}); }
    countFrames(pid, t);
  }
  async function follow() {
    if (!room) return;
    const here = new Set(room.publishers.values());
    for (const pid of Object.keys(tiles)) {
      if (pid !== state.me.id && !here.has(pid)) {
        tiles[pid].el.remove(); delete tiles[pid]; subscribed.delete(pid);
      }
    }
    for (const [feed, pid] of room.publishers) {
      if (subscribed.has(pid) || pid === state.me.id) continue;
      subscribed.add(pid);
      try {
        showFeed(feed, await room.subscribe(feed, { substream: SUBSTREAM }));
      } catch (e) {
        subscribed.delete(pid);
        H.log.push(Date.now() + " janus subscribe " + feed + ": " + e.message);
      }
    }
  }

  async function start(m, local, hall, setConn) {
    if (room) return;
    H = hall; state = m;
    const t = m.janus;
    H.joinAt = performance.now(); H.firstFrameMs = null;
    room = await window.JanusRoom.joinRoom({
      janusUrl: t.janus_url, room: t.room, pin: t.pin, token: t.token, display: t.display,
      iceServers: t.ice_servers,
    });
    H.room = room; H.janusJoined = true; H.connections += 1;
    room.onParticipants(() => { follow(); });
    room.onStream((feed, stream) => showFeed(feed, stream)); // resubscribed after a restart
    room.onState((s) => {
      H.janusState = s;
      if (s === "joined") setConn("通话中", "ok");
      else if (s === "reconnecting") setConn("连接中断，正在重连…", "bad");
    });
    room.onTalking((feed, on) => {
      const pid = room.publishers.get(feed);
      if (pid && tiles[pid]) tiles[pid].el.classList.toggle("speaking", on);
    });
    const me = tile(m.me.id, true);
    me.video.srcObject = local;
    await room.publish(local, { simulcast: true });
    setConn("通话中", "ok");
    await follow();
  }
  function update(m) {
    state = m;
    for (const p of m.participants) {
      const t = tiles[p.id];
      if (!t || p.id === m.me.id) continue;
      t.st.textContent = (p.audio === false ? "🔇 " : "") + (p.video === false ? "摄像头关" : "") + (p.online === false ? "离线" : "");
    }
  }
  async function leave() {
    const r = room;
    room = null;
    if (r) { try { await r.leave(); } catch (e) { /* Janus gone */ } }
  }
  window.MediationJanus = { start, update, leave, active: () => room !== null };
})();

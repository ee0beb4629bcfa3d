/* 值班点视频会议 (综治视联网): the station page's meetings, beside the roll call.
   A socket BASE/meet/ws says which meetings invite this centre (会议邀请: title, start
   time, a countdown, the agenda) and when one is withdrawn; the card's 加入会议 button
   joins with one click once the meeting is open: the hub answers with a ticket and the
   page joins the Janus room through window.JanusRoom (resources/web/common/janus-room.js),
   publishes its camera and microphone with simulcast, and shows the convenor (县综治中心,
   display "hall") large, the township that has the floor beside it, its own preview
   small, and a 举手 button. `floor` pushes say who speaks and whether this station is
   muted. Every outside text goes in with textContent. window.MEETING_STATE exposes the
   state for tests (invites, joined, floor, muted, hand, hallFrames, floorFrames, error). */
"use strict";
(function () {
  const CFG = JSON.parse(document.getElementById("page-config").textContent);
  const BASE = "/s/" + CFG.token;
  const HALL = "hall";
  const SHARE = HALL + ":share";  // the convenor's shared window or document page
  const S = (window.MEETING_STATE = {
    online: false, invites: {}, joined: null, roomJoined: false, floor: null, floorName: "",
    muted: false, hand: false, hallFrames: 0, floorFrames: 0, floorSwitches: 0, error: "", log: [],
    feeds: {}, sharing: false, shareFrames: 0, floorFeed: null,
  });
  let ws = null;
  let room = null;
  let local = null;

  function log(m) { S.log.push(Date.now() + " " + m); if (S.log.length > 200) S.log.shift(); }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }

  // -- the page's parts (built once) --------------------------------------------------------
  const main = document.querySelector("main.station") || document.body;
  const invites = el("section", "meet-invites");
  invites.id = "meet-invites";
  const view = el("section", "meet-room");
  view.id = "meet-room";
  view.hidden = true;
  const title = el("h2", "meet-title");
  const status = el("p", "meet-status");
  status.id = "meet-status";
  const grid = el("div", "meet-grid");
  function tile(cls, caption) {
    const f = el("figure", cls);
    const v = el("video");
    v.autoplay = true; v.playsInline = true; v.muted = cls !== "meet-hall";
    const c = el("figcaption", "", caption);
    f.append(v, c);
    return { f, v, c };
  }
  const shareTile = tile("meet-share", "县综治中心 共享");
  shareTile.f.hidden = true;
  shareTile.v.id = "meet-share-video";
  const hallTile = tile("meet-hall", "县综治中心");
  const floorTile = tile("meet-floor", "发言：—");
  const selfTile = tile("meet-self", "本值班点");
  hallTile.v.id = "meet-hall-video";
  floorTile.v.id = "meet-floor-video";
  grid.append(shareTile.f, hallTile.f, floorTile.f, selfTile.f);
  const buttons = el("div", "buttons");
  const handBtn = el("button", "meet-hand", "举手");
  handBtn.id = "meet-hand";
  const leaveBtn = el("button", "decline", "退出会议");
  leaveBtn.id = "meet-leave";
  buttons.append(handBtn, leaveBtn);
  view.append(title, status, grid, buttons);
  const header = main.querySelector("header");
  if (header && header.nextSibling) main.insertBefore(invites, header.nextSibling);
  else main.prepend(invites);
  main.insertBefore(view, invites.nextSibling);

  function countFrames(v, key) {
    if (!v.requestVideoFrameCallback) return;
    const step = () => { S[key] += 1; v.requestVideoFrameCallback(step); };
    v.requestVideoFrameCallback(step);
  }
  countFrames(hallTile.v, "hallFrames");
  countFrames(floorTile.v, "floorFrames");
  countFrames(shareTile.v, "shareFrames");

  // -- invitations ---------------------------------------------------------------------------
  // the start time in China time (the hub's), whatever the PC's own time zone
  const CN = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  function fmtStart(iso) { return CN.format(new Date(iso)); }
  function left(inv) { return Math.max(0, Math.round(inv.left_s - (Date.now() - inv.got) / 1000)); }
  function fmtLeft(s) {
    if (s <= 0) return "已到开会时间";
    const m = Math.floor(s / 60);
    return "距开会还有 " + (m ? m + " 分 " : "") + (s % 60) + " 秒";
  }
  // each card is made once and then updated in place: a card rebuilt by a push that
  // arrives while the officer clicks would swallow the click (mousedown on the old
  // button, mouseup on the new one)
  const cards = new Map();
  function card(inv) {
    const c = { card: el("div", "meet-invite"), title: el("h3", "meet-invite-title"),
      start: el("p"), cd: el("p", "meet-countdown"), agenda: el("pre", "meet-agenda"),
      b: el("button", "answer meet-join"), err: el("p", "error") };
    c.card.dataset.meeting = inv.meeting_id;
    c.b.addEventListener("click", () => join(inv.meeting_id));
    c.card.append(el("h2", "", "会议邀请"), c.title, c.start, c.cd, c.agenda, c.b, c.err);
    invites.append(c.card);
    cards.set(inv.meeting_id, c);
    return c;
  }
  function renderInvites() {
    for (const [id, c] of cards) if (!S.invites[id]) { c.card.remove(); cards.delete(id); }
    for (const inv of Object.values(S.invites)) {
      const c = cards.get(inv.meeting_id) || card(inv);
      c.card.className = "meet-invite" + (inv.open ? " open" : "");
      c.title.textContent = inv.title;
      c.start.textContent = "开会时间：" + fmtStart(inv.start_at);
      c.cd.textContent = inv.open ? "会议进行中" : fmtLeft(left(inv));
      c.agenda.textContent = inv.agenda || "";
      c.agenda.hidden = !inv.agenda;
      c.b.textContent = inv.open ? "加入会议" : "会议尚未开始";
      c.b.disabled = !inv.open || S.joined === inv.meeting_id;
      c.err.textContent = inv.refused || "";
      c.err.hidden = !inv.refused;
    }
    invites.hidden = !Object.keys(S.invites).length || !!S.joined;
  }
  function tick() {
    for (const card of invites.querySelectorAll(".meet-invite")) {
      const inv = S.invites[card.dataset.meeting];
      if (inv && !inv.open) card.querySelector(".meet-countdown").textContent = fmtLeft(left(inv));
    }
  }

  // -- the room ------------------------------------------------------------------------------
  function join(id) {
    S.error = "";
    log("join " + id);
    send({ type: "join", meeting_id: id });
  }
  async function camera() {
    if (local) return local;
    try {
      local = await (window.HallMedia ? window.HallMedia.open({ video: { width: 640, height: 360 }, audio: true })
        : navigator.mediaDevices.getUserMedia({ video: true, audio: true }));
      selfTile.v.srcObject = local;
    } catch (e) { log("camera: " + e.message); local = null; }
    return local;
  }
  // janus-room.js keeps each subscription in room.subs under its feed and, after a Janus
  // restart, moves it to the publisher's new feed itself: keyOf() finds it there.
  function keyOf(sub) {
    if (sub && room) for (const [feed, s] of room.subs) if (s === sub) return feed;
    return null;
  }
  // the convenor: one subscription (its top layer), made once (every push and roster
  // change calls this again: a new subscription each time would restart the picture)
  let hallSub = null;
  let hallPending = null;
  function showHall(feed) {
    const have = keyOf(hallSub);
    if (have === feed) { hallTile.v.srcObject = hallSub.stream; return; }
    if (have !== null && !hallSub.pc) return;  // rejoining: the room subscribes it again
    if (hallPending === feed) return;
    hallPending = feed;
    room.subscribe(feed, { substream: 2 }).then((stream) => {
      const old = have;
      hallSub = room.subs.get(feed);
      hallTile.v.srcObject = stream;
      log("subscribed hall");
      if (old !== null && !room.publishers.has(old)) room.unsubscribe(old);
    }).catch((e) => log("subscribe hall: " + e.message)).finally(() => { hallPending = null; });
  }
  // the floor: ONE subscription that follows the speaker. The first floor subscribes; every
  // later one is Janus's switch on that same connection (no new ICE, no new DTLS; Janus
  // asks the new speaker for a key frame at once), so the picture changes within a few
  // frames of the push. A slot whose speaker left the room is closed and made again.
  const slot = { sub: null, want: null, busy: false };
  function floorFeed() {
    if (!room || !S.floor || S.floor === CFG.centre) return null;
    for (const [feed, display] of room.publishers) if (display === S.floor) return feed;
    return null;
  }
  async function followFloor() {
    slot.want = floorFeed();
    if (slot.busy || !room) return;
    slot.busy = true;
    try {
      for (let n = 0; room && slot.want !== null && n < 4; n++) {
        const feed = slot.want;
        let have = keyOf(slot.sub);
        if (have === null) slot.sub = null;
        if (have === feed || (slot.sub && !slot.sub.pc)) break;  // there, or the room rejoins
        if (have !== null && !room.publishers.has(have)) {  // its speaker left: stream ended
          await room.unsubscribe(have);
          slot.sub = null; have = null;
        }
        const t0 = performance.now();
        try {
          if (have === null) await room.subscribe(feed, { substream: 2 });
          else await room.switchFeed(have, feed);
        } catch (e) {
          log("floor " + feed + ": " + e.message);
          if (have === null) throw e;
          await room.unsubscribe(have);  // subscribe anew next time round
          slot.sub = null;
          continue;
        }
        slot.sub = room.subs.get(feed);
        floorTile.v.srcObject = slot.sub.stream;
        S.floorSwitches += 1;
        S.floorFeed = feed;
        log("floor → " + room.publishers.get(feed) + " in " + Math.round(performance.now() - t0) + " ms");
        slot.want = floorFeed();
      }
    } catch (e) {
      log("floor: " + e.message);
    } finally {
      slot.busy = false;
    }
  }
  // the convenor's share: large while it is on (the convenor's camera goes small)
  let shareSub = null;
  function showShare() {
    let feed = null;
    if (room) for (const [f, d] of room.publishers) if (d === SHARE) feed = f;
    const have = keyOf(shareSub);
    S.sharing = feed !== null;
    shareTile.f.hidden = !S.sharing;
    grid.classList.toggle("sharing", S.sharing);
    if (have !== null && have !== feed && shareSub.pc) {
      room.unsubscribe(have);  // the share ended (or another began)
      shareSub = null;
    }
    if (feed === null || have === feed || shareSub === "pending") return;
    shareSub = "pending";
    room.subscribe(feed, { substream: 2 }).then((stream) => {
      shareSub = room.subs.get(feed);
      shareTile.v.srcObject = stream;
      log("subscribed share");
    }).catch((e) => { shareSub = null; log("subscribe share: " + e.message); });
  }
  function showFeed(feed, display) {
    S.feeds[feed] = display;
    if (display === HALL) showHall(feed);
    else if (display === S.floor) followFloor();
  }
  function showFloor() {
    const name = S.floor ? S.floorName : "—";
    floorTile.c.textContent = "发言：" + name;
    floorTile.f.hidden = !S.floor || S.floor === CFG.centre;
    status.textContent = (S.floor === CFG.centre ? "本值班点正在发言" : (S.floor ? name + " 正在发言" : "主持人讲话"))
      + (S.muted ? "（本值班点已静音）" : "") + (S.hand ? " · 已举手" : "");
    handBtn.disabled = S.hand || S.floor === CFG.centre;
    handBtn.textContent = S.hand ? "已举手" : "举手";
    followFloor();
  }
  async function enter(t) {
    if (!window.JanusRoom) { S.error = "会议组件未加载，请刷新页面"; renderInvites(); return; }
    const inv = S.invites[t.meeting_id];
    title.textContent = inv ? inv.title : "";
    S.joined = t.meeting_id;
    renderInvites();
    view.hidden = false;
    try {
      room = await window.JanusRoom.joinRoom({
        janusUrl: t.janus_url, room: t.room, pin: t.pin, token: t.token, display: t.display,
        iceServers: t.ice_servers,
      });
      S.roomJoined = true;
      room.onParticipants((list) => {
        for (const p of list) showFeed(p.feed, p.display);
        showShare();
      });
      room.onStream((feed, stream) => {  // (re)subscribed, e.g. after a Janus restart
        const sub = room.subs.get(feed);
        if (sub && sub === hallSub) hallTile.v.srcObject = stream;
        else if (sub && sub === slot.sub) { floorTile.v.srcObject = stream; followFloor(); }
        else if (sub && sub === shareSub) shareTile.v.srcObject = stream;
      });
      for (const [feed, display] of room.publishers) showFeed(feed, display);
      showShare();
      const stream = await camera();
      if (stream) await room.publish(stream, { simulcast: true });
      log("published");
    } catch (e) {
      S.error = "加入会议失败：" + e.message;
      status.textContent = S.error;
      log(S.error);
    }
  }
  async function leaveRoom() {
    S.joined = null; S.roomJoined = false; S.hand = false;
    hallSub = null; shareSub = null; S.sharing = false;
    shareTile.f.hidden = true;
    grid.classList.remove("sharing");
    Object.assign(slot, { sub: null, want: null });
    const r = room;
    room = null;
    view.hidden = true;
    hallTile.v.srcObject = null; floorTile.v.srcObject = null; shareTile.v.srcObject = null;
    if (r) { try { await r.leave(); } catch (e) { log("leave " + e.message); } }
    renderInvites();
  }
  handBtn.addEventListener("click", () => { if (S.joined) send({ type: "hand", meeting_id: S.joined }); });
  leaveBtn.addEventListener("click", () => {
    if (S.joined) send({ type: "leave", meeting_id: S.joined });
    leaveRoom();
  });

  // -- the socket ----------------------------------------------------------------------------
  const handlers = {
    invite(m) {
      const old = S.invites[m.meeting_id];
      S.invites[m.meeting_id] = Object.assign({}, m, { got: Date.now(), refused: old && old.refused });
      renderInvites();
    },
    gone(m) {
      if (m.reason !== "left") delete S.invites[m.meeting_id];
      if (S.joined === m.meeting_id) leaveRoom();
      renderInvites();
    },
    ticket(m) { enter(m); },
    floor(m) {
      if (m.meeting_id !== S.joined && S.joined) return;
      S.floor = m.centre; S.floorName = m.name; S.muted = m.muted; S.hand = m.hand;
      showFloor();
    },
    refused(m) {
      const inv = S.invites[m.meeting_id];
      S.error = m.message;
      if (inv) inv.refused = m.message;
      renderInvites();
    },
  };
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + BASE + "/meet/ws");
    ws.onopen = () => { S.online = true; log("meet ws open"); };
    ws.onclose = () => {
      S.online = false;
      log("meet ws closed");
      setTimeout(connect, 1000);
    };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      const h = handlers[m.type];
      if (h) h(m); else log("meet: " + m.type);
    };
  }
  setInterval(tick, 1000);
  renderInvites();
  connect();
})();

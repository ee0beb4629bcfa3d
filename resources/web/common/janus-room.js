/* A small Janus videoroom client for the pages (meetings): window.JanusRoom.
   Speaks Janus's HTTP API (POST + long-poll GET), no library.

   const room = await JanusRoom.joinRoom({janusUrl, room, pin, token, display, iceServers});
   room.feed                      our publisher id in the room
   room.publishers                Map feed -> display of the others
   await room.publish(stream, {simulcast: true})   three layers (h, m, l) of the camera
   const media = await room.subscribe(feed, {substream: 0})   a MediaStream (0 = low layer)
   await room.setSubstream(feed, 2)
   await room.unsubscribe(feed)   that subscription's connection closed
   await room.switchFeed(oldFeed, newFeed)   the subscription to oldFeed now carries newFeed's
                                  video (Janus's "switch": the same connection, no new ICE;
                                  Janus asks the new publisher for a key frame) → its stream
   room.onParticipants(cb)        cb([{feed, display}]) whenever the publishers change
   room.onTalking(cb)             cb(feed, talking)
   room.onStream(cb)              cb(feed, mediaStream) for every (re)subscribed feed
   room.onState(cb)               cb("joined" | "reconnecting" | "left")
   await room.leave()

   When Janus restarts (the session is gone: 458, or Janus stops answering) the client
   joins again with the same room, PIN and token, publishes the same stream and
   subscribes again to the same people (by their display name: feed ids change);
   room.rejoins counts it. Errors reject with an Error whose .code is Janus's or the
   videoroom's error code (433: wrong PIN or token, 426: no such room). */
"use strict";
(function () {
  function tx() {
    return Math.random().toString(36).slice(2, 12);
  }

  class JanusError extends Error {
    constructor(code, reason) {
      super("janus " + code + ": " + reason);
      this.code = code;
    }
  }

  function check(msg) {
    if (msg.janus === "error") throw new JanusError(msg.error.code, msg.error.reason);
    const data = (msg.plugindata && msg.plugindata.data) || {};
    if (data.error_code) throw new JanusError(data.error_code, data.error || "");
    return data;
  }

  class Session {
    constructor(url) {
      this.url = url.replace(/\/$/, "");
      this.id = null;
      this.lost = false;
      this.pending = new Map();
      this.handlers = new Map();
      this.onLost = () => {};
    }
    async post(path, body) {
      body.transaction = body.transaction || tx();
      const r = await fetch(this.url + path, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" },
      });
      return r.json();
    }
    async create() {
      const msg = await this.post("", { janus: "create" });
      check(msg);
      this.id = msg.data.id;
      this.poll();
    }
    async attach() {
      const msg = await this.post("/" + this.id, {
        janus: "attach",
        plugin: "janus.plugin.videoroom",
      });
      check(msg);
      return msg.data.id;
    }
    on(handle, cb) {
      this.handlers.set(handle, cb);
    }
    async request(handle, body, jsep) {
      const t = tx();
      const msg = { janus: "message", body: body, transaction: t };
      if (jsep) msg.jsep = jsep;
      const waiting = new Promise((resolve, reject) => this.pending.set(t, { resolve, reject }));
      let reply = await this.post("/" + this.id + "/" + handle, msg);
      if (reply.janus === "ack") reply = await waiting;
      this.pending.delete(t);
      const data = check(reply);
      return { data: data, jsep: reply.jsep || null };
    }
    async trickleDone(handle) {
      check(await this.post("/" + this.id + "/" + handle, {
        janus: "trickle",
        candidate: { completed: true },
      }));
    }
    async poll() {
      let failures = 0;
      while (!this.lost) {
        let msgs;
        try {
          const r = await fetch(this.url + "/" + this.id + "?maxev=10&rid=" + Date.now());
          msgs = await r.json();
          failures = 0;
        } catch (e) {
          failures += 1;
          if (failures >= 2) return this.markLost("unreachable");
          await new Promise((ok) => setTimeout(ok, 200));
          continue;
        }
        for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
          if (m.janus === "error" && m.error && m.error.code === 458) return this.markLost("458");
          if (m.janus === "keepalive") continue;
          const p = m.transaction && this.pending.get(m.transaction);
          if (p && (m.janus === "event" || m.janus === "success" || m.janus === "error")) {
            p.resolve(m);
            continue;
          }
          const cb = this.handlers.get(m.sender);
          if (cb) cb(m);
        }
      }
    }
    markLost(why) {
      if (this.lost) return;
      this.lost = true;
      for (const p of this.pending.values()) p.reject(new JanusError(458, "session lost"));
      this.pending.clear();
      this.onLost(why);
    }
    async destroy() {
      if (this.lost || this.id === null) return;
      this.lost = true;
      try { await this.post("/" + this.id, { janus: "destroy" }); } catch (e) { /* gone */ }
    }
  }

  function waitIce(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((ok) => {
      const done = () => { if (pc.iceGatheringState === "complete") ok(); };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(ok, 3000); // whatever was gathered by then
    });
  }

  class Room {
    constructor(opts) {
      this.opts = opts;
      this.feed = 0;
      this.publishers = new Map();
      this.videoMids = new Map(); // feed -> its video mids
      this.talking = new Set();
      this.subs = new Map(); // feed -> {pc, stream, display, substream, handle, videoMid}
      this.rejoins = 0;
      this.left = false;
      this.stream = null;
      this.simulcast = false;
      this.pubPc = null;
      this.cbs = { participants: [], talking: [], stream: [], state: [] };
    }
    emit(kind, ...args) {
      for (const cb of this.cbs[kind]) {
        try { cb(...args); } catch (e) { console.error(e); }
      }
    }
    onParticipants(cb) { this.cbs.participants.push(cb); }
    onTalking(cb) { this.cbs.talking.push(cb); }
    onStream(cb) { this.cbs.stream.push(cb); }
    onState(cb) { this.cbs.state.push(cb); }
    config() {
      return { iceServers: this.opts.iceServers || [], bundlePolicy: "max-bundle" };
    }

    async join() {
      const s = new Session(this.opts.janusUrl);
      await s.create();
      this.session = s;
      s.onLost = () => this.recover();
      this.handle = await s.attach();
      s.on(this.handle, (m) => this.event(m));
      const r = await s.request(this.handle, {
        request: "join", ptype: "publisher", room: this.opts.room, pin: this.opts.pin,
        token: this.opts.token, display: this.opts.display,
      });
      this.feed = r.data.id;
      this.apply(r.data);
      this.emit("state", "joined");
    }

    event(m) {
      const data = (m.plugindata && m.plugindata.data) || {};
      if (m.janus === "event") this.apply(data);
    }

    apply(data) {
      let changed = false;
      for (const p of data.publishers || []) {
        if (p.id === this.feed) continue;
        this.publishers.set(p.id, p.display || "");
        this.videoMids.set(p.id, (p.streams || []).filter((st) => st.type === "video").map((st) => st.mid));
        changed = true;
      }
      for (const key of ["unpublished", "leaving", "kicked"]) {
        const gone = data[key];
        if (typeof gone === "number" && this.publishers.has(gone)) {
          this.publishers.delete(gone);
          changed = true;
        }
      }
      if (data.videoroom === "talking" || data.videoroom === "stopped-talking") {
        const on = data.videoroom === "talking";
        if (on) this.talking.add(data.id); else this.talking.delete(data.id);
        this.emit("talking", data.id, on);
      }
      if (changed) {
        const list = [...this.publishers].map(([feed, display]) => ({ feed, display }));
        this.emit("participants", list);
        if (this.rejoins) this.resubscribe();
      }
    }

    async publish(stream, options) {
      this.stream = stream;
      this.simulcast = !!(options && options.simulcast);
      const pc = new RTCPeerConnection(this.config());
      this.pubPc = pc;
      for (const track of stream.getAudioTracks()) {
        pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      }
      for (const track of stream.getVideoTracks()) {
        const init = { direction: "sendonly", streams: [stream] };
        if (this.simulcast) {
          init.sendEncodings = [
            { rid: "h", active: true, maxBitrate: 900000 },
            { rid: "m", active: true, maxBitrate: 300000, scaleResolutionDownBy: 2 },
            { rid: "l", active: true, maxBitrate: 100000, scaleResolutionDownBy: 4 },
          ];
        }
        pc.addTransceiver(track, init);
      }
      await pc.setLocalDescription(await pc.createOffer());
      await waitIce(pc);
      const offer = { type: "offer", sdp: pc.localDescription.sdp };
      const r = await this.session.request(this.handle, {
        request: "publish", display: this.opts.display,
      }, offer);
      await this.session.trickleDone(this.handle);
      await pc.setRemoteDescription(r.jsep);
    }

    async waitFeed(feed, ms) {
      const end = Date.now() + ms;
      while (!this.publishers.has(feed)) {
        if (Date.now() > end) throw new JanusError(428, "feed " + feed + " not announced");
        await new Promise((ok) => setTimeout(ok, 50));
      }
    }

    async subscribe(feed, options) {
      await this.waitFeed(feed, 10000);
      const sub = this.subs.get(feed) || { display: this.publishers.get(feed) || "" };
      sub.substream = options && typeof options.substream === "number" ? options.substream : 2;
      this.subs.set(feed, sub);
      await this.startSub(feed, sub);
      return sub.stream;
    }

    async startSub(feed, sub) {
      const s = this.session;
      sub.handle = await s.attach();
      s.on(sub.handle, () => {});
      const r = await s.request(sub.handle, {
        request: "join", ptype: "subscriber", room: this.opts.room, pin: this.opts.pin,
        token: this.opts.token, streams: [{ feed: feed }],
      });
      for (const st of r.data.streams || []) if (st.type === "video") sub.videoMid = st.mid;
      const pc = new RTCPeerConnection(this.config());
      sub.pc = pc;
      sub.stream = new MediaStream();
      pc.ontrack = (ev) => sub.stream.addTrack(ev.track);
      await pc.setRemoteDescription(r.jsep);
      await pc.setLocalDescription(await pc.createAnswer());
      await waitIce(pc);
      await s.request(sub.handle, { request: "start" },
        { type: "answer", sdp: pc.localDescription.sdp });
      if (sub.videoMid !== undefined) await this.setSubstream(feed, sub.substream);
      this.emit("stream", feed, sub.stream);
    }

    async setSubstream(feed, substream) {
      const sub = this.subs.get(feed);
      if (!sub) throw new Error("not subscribed to " + feed);
      sub.substream = substream;
      if (sub.videoMid === undefined || !sub.handle) return;
      await this.session.request(sub.handle, {
        request: "configure", streams: [{ mid: sub.videoMid, substream: substream }],
      });
    }

    async switchFeed(oldFeed, newFeed) {
      const sub = this.subs.get(oldFeed);
      if (!sub || !sub.handle || sub.videoMid === undefined) throw new Error("not subscribed to " + oldFeed);
      if (oldFeed === newFeed) return sub.stream;
      await this.waitFeed(newFeed, 10000);
      const mids = this.videoMids.get(newFeed) || [];
      if (!mids.length) throw new JanusError(428, "feed " + newFeed + " has no video");
      await this.session.request(sub.handle, {
        request: "switch", streams: [{ feed: newFeed, mid: mids[0], sub_mid: sub.videoMid }],
      });
      this.subs.delete(oldFeed);
      sub.display = this.publishers.get(newFeed) || "";
      this.subs.set(newFeed, sub);
      // Janus puts a switched stream on its top layer; a lower one is asked for again
      if (sub.substream !== 2) await this.setSubstream(newFeed, sub.substream);
      return sub.stream;
    }

    async unsubscribe(feed) {
      const sub = this.subs.get(feed);
      if (!sub) return;
      this.subs.delete(feed);
      if (sub.pc) sub.pc.close();
      const handle = sub.handle;
      sub.pc = null; sub.handle = null;
      if (handle && this.session && !this.session.lost) {
        const s = this.session;
        try { await s.post("/" + s.id + "/" + handle, { janus: "detach" }); } catch (e) { /* gone */ }
      }
    }

    async resubscribe() {
      if (this.resubscribing) return;
      this.resubscribing = true;
      try {
        for (const [oldFeed, sub] of [...this.subs]) {
          if (sub.pc || !sub.display) continue;
          for (const [feed, display] of this.publishers) {
            if (display !== sub.display) continue;
            this.subs.delete(oldFeed);
            this.subs.set(feed, sub);
            await this.startSub(feed, sub);
            break;
          }
        }
      } catch (e) {
        console.warn("resubscribe", e);
      } finally {
        this.resubscribing = false;
      }
    }

    closePeers() {
      if (this.pubPc) this.pubPc.close();
      this.pubPc = null;
      for (const sub of this.subs.values()) {
        if (sub.pc) sub.pc.close();
        sub.pc = null;
        sub.handle = null;
      }
    }

    async recover() {
      if (this.left) return;
      this.emit("state", "reconnecting");
      this.closePeers();
      let wait = 200;
      while (!this.left) {
        try {
          this.publishers.clear();
          await this.join();
          if (this.stream) await this.publish(this.stream, { simulcast: this.simulcast });
          this.rejoins += 1;
          await this.resubscribe();
          return;
        } catch (e) {
          if (this.session) this.session.lost = true;
          await new Promise((ok) => setTimeout(ok, wait));
          wait = Math.min(wait * 2, 3000);
        }
      }
    }

    async leave() {
      if (this.left) return;
      this.left = true;
      try {
        await this.session.request(this.handle, { request: "leave" });
      } catch (e) { /* Janus gone */ }
      this.closePeers();
      await this.session.destroy();
      this.emit("state", "left");
    }
  }

  async function joinRoom(opts) {
    const room = new Room(opts);
    await room.join();
    return room;
  }

  window.JanusRoom = { joinRoom: joinRoom, JanusError: JanusError };
})();

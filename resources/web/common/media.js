/* Camera and microphone problems, said plainly (shared by the mediation and station
   pages): window.HallMedia.
   - problem(): "insecure" when the page is not a secure context (opened over plain HTTP by
     a name other than localhost: the browser hides navigator.mediaDevices), else null;
   - kindOf(err): what a getUserMedia failure means: "denied" (NotAllowedError,
     SecurityError), "missing" (NotFoundError, OverconstrainedError), "busy"
     (NotReadableError, AbortError), else "other";
   - open(constraints): getUserMedia, rejecting with an Error whose .kind is one of those;
   - show(kind, detail): the Chinese message (what is wrong, what to do) in a box
     #media-problem at the top of the page (data-kind = kind); hide() removes it.
   Every text goes in with textContent. The https link and the CA page come from the page
   settings (public_url, ca_url: dispatch.hub.web_pages.links_for), else this host. */
"use strict";
(function () {
  const cfgEl = document.getElementById("page-config");
  const CFG = cfgEl ? JSON.parse(cfgEl.textContent) : {};
  function httpsUrl() {
    if (CFG.public_url) return CFG.public_url.replace(/\/$/, "") + location.pathname;
    return "https://" + location.host + location.pathname;
  }
  function trustStep() {
    if (CFG.ca_url) {
      return "如果浏览器提示证书不受信任，请先打开 " + CFG.ca_url +
        " 按页面上的步骤（安卓、苹果、Windows）安装本中心的证书，再重新打开链接。";
    }
    return "如果浏览器提示证书不受信任，请按综治中心提供的证书安装页（/ca）的步骤安装本中心的证书，再重新打开链接。";
  }
  const TEXTS = {
    insecure: () => ({
      title: "无法使用摄像头和麦克风",
      what: "此页面未通过安全连接（HTTPS）打开，浏览器不允许使用摄像头和麦克风。",
      fix: "请改用综治中心发给您的 https:// 开头的链接打开本页：" + httpsUrl() + "。" + trustStep(),
    }),
    denied: () => ({
      title: "摄像头或麦克风被拒绝",
      what: "浏览器没有得到使用摄像头和麦克风的许可。",
      fix: "请点击地址栏左侧的锁形（或信息）图标，在“网站设置”中把摄像头和麦克风设为“允许”，然后刷新本页。",
    }),
    missing: () => ({
      title: "未找到摄像头或麦克风",
      what: "这台设备上没有可用的摄像头或麦克风。",
      fix: "请插好摄像头和麦克风（或带麦克风的耳机），确认电脑已识别后刷新本页。",
    }),
    busy: () => ({
      title: "摄像头或麦克风正被占用",
      what: "摄像头或麦克风正被其他程序使用，浏览器无法打开。",
      fix: "请关闭正在使用摄像头的其他程序或网页（如视频会议、微信视频），然后刷新本页。",
    }),
    other: () => ({
      title: "无法打开摄像头或麦克风",
      what: "浏览器打开摄像头或麦克风时出错。",
      fix: "请刷新本页重试；如果仍然不行，请换用最新版的 Chrome、Edge 或手机自带浏览器。",
    }),
  };
  function problem() {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "insecure";
    return null;
  }
  function kindOf(err) {
    const name = (err && err.name) || "";
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return "denied";
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return "missing";
    if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") return "busy";
    if (err && err.kind && TEXTS[err.kind]) return err.kind;
    return "other";
  }
  async function open(constraints) {
    const p = problem();
    if (p) { const e = new Error(TEXTS[p]().what); e.kind = p; throw e; }
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      const e = new Error((err && err.message) || String(err));
      e.kind = kindOf(err); e.name = (err && err.name) || "Error";
      throw e;
    }
  }
  function hide() { const box = document.getElementById("media-problem"); if (box) box.remove(); }
  function show(kind, detail) {
    const t = (TEXTS[kind] || TEXTS.other)();
    let box = document.getElementById("media-problem");
    if (!box) {
      box = document.createElement("section");
      box.id = "media-problem";
      box.className = "card notice error media-problem";
      box.setAttribute("role", "alert");
      Object.assign(box.style, {
        border: "2px solid #c0392b", background: "#fdecea", color: "#1d2733",
        padding: "12px 16px", margin: "8px", borderRadius: "8px",
        overflowWrap: "anywhere",  // a long https link breaks instead of widening a phone page
      });
      document.body.insertBefore(box, document.body.firstChild);
    }
    box.dataset.kind = kind;
    box.textContent = "";
    const h = document.createElement("h2"); h.textContent = t.title;
    const what = document.createElement("p"); what.className = "what"; what.textContent = t.what;
    const fix = document.createElement("p"); fix.className = "fix"; fix.textContent = "解决办法：" + t.fix;
    box.append(h, what, fix);
    if (detail) { const d = document.createElement("p"); d.className = "muted detail"; d.textContent = detail; box.append(d); }
    return box;
  }
  window.HallMedia = { problem, kindOf, open, show, hide, TEXTS };
})();

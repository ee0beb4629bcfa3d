"""The plain-HTTP listener: the one thing a phone can open before it trusts the hub.

- `GET /ca.crt`: the hub's CA certificate (PEM, `application/x-x509-ca-cert`, which
  Android, iOS and Windows offer to install); 404 when the hub has no CA of its own;
- `GET /ca`: a Chinese page with the CA's SHA-256 fingerprint (to compare with what the
  phone shows) and the install steps for Android, iOS and Windows;
- everything else: 308 to the same path and query on the public HTTPS URL.

Nothing else is served here: no page, no API, no cookie ever travels in plain text.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from aiohttp import web

from dispatch.hub.web_pages import html_response

CA_CONTENT_TYPE = "application/x-x509-ca-cert"

INSTALL_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "安卓手机",
        (
            "用手机浏览器打开本页，点击上面的“下载证书”。",
            "打开“设置 → 安全 → 更多安全设置 → 加密与凭据 → 安装证书 → CA 证书”"
            "（各品牌名称略有不同，可在设置里搜索“CA 证书”），选择刚下载的 ca.crt。",
            "核对证书指纹与本页显示的一致后确认安装。",
        ),
    ),
    (
        "苹果手机（iOS）",
        (
            "用 Safari 打开本页，点击“下载证书”，在提示中选择“允许”下载描述文件。",
            "打开“设置 → 通用 → VPN与设备管理”，选择“Command Hall CA”描述文件并“安装”。",
            "再打开“设置 → 通用 → 关于本机 → 证书信任设置”，"
            "为“Command Hall CA”打开“完全信任”开关（不打开则网页仍提示不安全）。",
        ),
    ),
    (
        "Windows 电脑",
        (
            "点击“下载证书”，双击下载的 ca.crt，选择“安装证书”。",
            "选择“本地计算机”（或“当前用户”），"
            "选择“将所有的证书都放入下列存储”→“受信任的根证书颁发机构”，完成。",
            "重新打开浏览器后访问下面的地址。",
        ),
    ),
)


def ca_page(fingerprint: str | None, subject: str, public_url: str) -> str:
    """The Chinese install page; every text on it is escaped."""
    esc = html.escape
    if fingerprint is None:
        body = (
            "<h1>本系统使用正式证书</h1><p>无需安装任何证书，请直接访问："
            f'<a id="public-url" href="{esc(public_url)}">{esc(public_url)}</a></p>'
        )
    else:
        steps = "".join(
            f"<h2>{esc(title)}</h2><ol>" + "".join(f"<li>{esc(s)}</li>" for s in items) + "</ol>"
            for title, items in INSTALL_STEPS
        )
        body = (
            "<h1>安装本中心的根证书</h1>"
            "<p>手机和电脑安装一次本中心的根证书后，才能安全地打开视频点名、视频调解和"
            "网格员手机页，并使用摄像头和麦克风。</p>"
            f'<p><a id="download" href="/ca.crt" download="ca.crt">下载证书</a>'
            f"（{esc(subject)}）</p>"
            f'<p>证书指纹（SHA-256）：<br><code id="fingerprint">{esc(fingerprint)}</code></p>'
            f"{steps}"
            f'<p>安装后请访问：<a id="public-url" href="{esc(public_url)}">'
            f"{esc(public_url)}</a></p>"
        )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>安装根证书</title></head>"
        '<body style="font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 1em;'
        'overflow-wrap:anywhere">'
        f"{body}</body></html>"
    )


def redirect_target(public_url: str, path_qs: str) -> str:
    """The same path and query on the public HTTPS URL."""
    return public_url.rstrip("/") + (path_qs if path_qs.startswith("/") else "/" + path_qs)


def make_plain_app(
    ca_pem: bytes | None,
    fingerprint: str | None,
    subject: str,
    public_url: Callable[[], str],
) -> web.Application:
    """The plain-HTTP app; `public_url()` is read per request (known once bound)."""

    async def ca_cert(_request: web.Request) -> web.StreamResponse:
        if ca_pem is None:
            return web.Response(status=404, text="no CA certificate: the hub uses a public one")
        return web.Response(
            body=ca_pem,
            content_type=CA_CONTENT_TYPE,
            headers={"Content-Disposition": 'attachment; filename="ca.crt"'},
        )

    async def ca_info(_request: web.Request) -> web.StreamResponse:
        return html_response(200, ca_page(fingerprint, subject, public_url()))

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        raise web.HTTPPermanentRedirect(redirect_target(public_url(), request.path_qs))

    app = web.Application()
    app.router.add_get("/ca.crt", ca_cert)
    app.router.add_get("/ca", ca_info)
    app.router.add_route("*", "/{tail:.*}", elsewhere)
    return app

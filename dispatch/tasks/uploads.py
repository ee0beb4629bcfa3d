"""Checks of the photos a grid leader uploads with feedback and of the evidence a
console uploads (pure: no I/O).

The type is decided by the file's first bytes (its magic number), never by its name or
the Content-Type the browser claims: photos are JPEG, PNG and WebP only, at most
`MAX_PHOTO_BYTES`; a snapshot is PNG or JPEG, a clip MP4. The files are stored under
names the hub chooses (`is_blob_name`); a client's file name is display only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

MAX_PHOTO_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class PhotoType:
    mime: str
    ext: str


JPEG = PhotoType("image/jpeg", ".jpg")
PNG = PhotoType("image/png", ".png")
WEBP = PhotoType("image/webp", ".webp")


class UploadRefused(Exception):
    """An upload that is not stored; `status` is the HTTP status, `message_zh` for the page."""

    def __init__(self, code: str, status: int, message_zh: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.status = status
        self.message_zh = message_zh
        self.message_en = message_en


def sniff(head: bytes) -> PhotoType | None:
    """The photo type from the first bytes, or None if it is not JPEG, PNG or WebP."""
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def check_photo(data: bytes, limit: int = MAX_PHOTO_BYTES) -> PhotoType:
    """The photo's type, or `UploadRefused` saying why it cannot be accepted."""
    if len(data) > limit:
        mb = limit / (1024 * 1024)
        raise UploadRefused(
            "too_large",
            413,
            f"照片太大：{len(data) / (1024 * 1024):.1f} MB，最大 {mb:g} MB，请压缩后重新上传",
            f"photo too large: {len(data)} bytes, the limit is {limit}",
        )
    if not data:
        raise UploadRefused("empty", 400, "照片是空文件，请重新选择", "empty upload")
    kind = sniff(data[:16])
    if kind is None:
        raise UploadRefused(
            "not_image",
            415,
            "只能上传 JPG、PNG 或 WebP 格式的照片，该文件不是照片",
            "only JPEG, PNG or WebP photos are accepted",
        )
    return kind


# -- evidence from the console (snapshots and clips) -----------------------------------

MAX_EVIDENCE_BYTES = 512 * 1024 * 1024
EVIDENCE_CHUNK_BYTES = 256 * 1024  # raw bytes per upload request (base64 on the wire)
EVIDENCE_CHUNK_B64 = (EVIDENCE_CHUNK_BYTES + 2) // 3 * 4
MP4 = PhotoType("video/mp4", ".mp4")

# the names the hub gives the files it stores: photos `ph-<32 hex>.<ext>` (upload folder),
# evidence `<sha256>.<ext>` (evidence folder); nothing else is ever served
_BLOB_EXTS = (".jpg", ".png", ".webp", ".mp4")


def is_blob_name(name: str) -> bool:
    """True for a file name the hub itself chose (never a path, never a client's name)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or f".{ext}" not in _BLOB_EXTS:
        return False
    hex_part = stem[3:] if stem.startswith("ph-") else stem
    want = 32 if stem.startswith("ph-") else 64
    return len(hex_part) == want and all(c in "0123456789abcdef" for c in hex_part)


def sniff_evidence(kind: str, head: bytes) -> PhotoType | None:
    """The type of an evidence file from its first bytes: a snapshot is a PNG or JPEG
    image, a clip an MP4 (`ftyp` box); None when the bytes are not what `kind` says."""
    if kind == "snapshot":
        got = sniff(head)
        return got if got in (PNG, JPEG) else None
    if kind == "clip" and len(head) >= 12 and head[4:8] == b"ftyp":
        return MP4
    return None


def display_name(name: str, limit: int = 120) -> str:
    """A client's file name made safe to show and to offer as a download name: the last
    path component, without control characters, quotes or separators (display only)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?/;').strip(" .")
    return clean[:limit]


def content_disposition(name: str, fallback: str) -> str:
    """`inline` with an ASCII `filename` and the UTF-8 `filename*` (RFC 6266/5987)."""
    safe = display_name(name) or fallback
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in safe)
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"

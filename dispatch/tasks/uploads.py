"""Checks of the photos a grid leader uploads with feedback (pure: no I/O).

The type is decided by the file's first bytes (its magic number), never by its name or
the Content-Type the browser claims: JPEG, PNG and WebP only, at most `MAX_PHOTO_BYTES`.
"""

from __future__ import annotations

from dataclasses import dataclass

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

"""The site file, read fast at start: its TOML parsed once, then kept as JSON.

Python's TOML parser is pure Python: a county of 5,000 cameras (a 2 MB site file) took
about 1 s to parse on the benchmark machine, most of the console's start. The parsed
data is kept as JSON in the console's config folder under the SHA-256 of the file's
bytes; the next start with the same bytes reads that JSON and validates it with the
site's own model (pydantic's JSON validation, ~0.2 s for 5,000 cameras), so every rule
of the site still runs on every start and a changed file is simply a new key. The
cache holds the file's data as it is (an inline camera password too), so it is written
0600 in a 0700 folder like the other private files; only the newest few are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from dispatch.domain.site import Site, SiteConfigError, parse_site
from streams.private import private_dir, write_private

KEEP = 4


def cache_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_site_cached(path: Path, cache_dir: Path) -> Site:
    """The site of `path`, its parsed data cached in `cache_dir`; `SiteConfigError` for a
    file that cannot be used (the same messages as `load_site`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SiteConfigError(f"{path}: cannot read site file: {exc.strerror}") from None
    cached = cache_dir / f"site-{cache_key(raw)}.json"
    with contextlib.suppress(OSError, ValidationError, ValueError):
        return Site.model_validate_json(cached.read_bytes())
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteConfigError(f"{path}: not valid TOML: {exc}") from None
    site = parse_site(data, str(path))
    with contextlib.suppress(OSError, TypeError, ValueError):  # a cache is only a cache
        text = json.dumps(data, ensure_ascii=False)
        write_private(private_dir(cache_dir) / cached.name, text.encode("utf-8"))
        _prune(cache_dir, KEEP)
    return site


def _prune(cache_dir: Path, keep: int) -> None:
    files = sorted(cache_dir.glob("site-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)

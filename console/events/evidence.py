"""The SHA-256 of an evidence file for attaching it to an event (runs off the GUI thread).

Clips come with a `<file>.sha256` sidecar in `sha256sum` format (streams.ingest.evidence); its
digest is used after checking that it names the file. Snapshots have none: the file is
hashed. A missing or unreadable file, or a sidecar that is not a digest of this file's
name, is an `EvidenceFileError` naming the path.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


class EvidenceFileError(ValueError):
    pass


@dataclass(frozen=True)
class EvidenceDigest:
    path: Path
    sha256: str
    size: int
    from_sidecar: bool


def parse_sidecar(text: str, file_name: str) -> str:
    """The digest in a `sha256sum` line for `file_name` (lower case)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    m = _LINE.match(line)
    if m is None:
        raise EvidenceFileError(f"not a sha256sum line: {line[:80]!r}")
    if m.group(2).strip() != file_name:
        raise EvidenceFileError(f"the sidecar names {m.group(2)!r}, not {file_name!r}")
    return m.group(1).lower()


def hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def evidence_digest(path: Path) -> EvidenceDigest:
    """The file's size and SHA-256 (from its sidecar when there is one)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise EvidenceFileError(f"evidence file {path} cannot be read: {exc}") from exc
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        try:
            digest = parse_sidecar(sidecar.read_text("utf-8"), path.name)
        except (OSError, UnicodeDecodeError, EvidenceFileError) as exc:
            raise EvidenceFileError(f"sidecar {sidecar}: {exc}") from exc
        return EvidenceDigest(path, digest, size, True)
    try:
        return EvidenceDigest(path, hash_file(path), size, False)
    except OSError as exc:
        raise EvidenceFileError(f"evidence file {path} cannot be read: {exc}") from exc

"""Which console workstations may reach the hub: the enrolment book (`consoles.json`).

`enrol(keys_dir, NAME)` makes the workstation's key pair, records its public key as
enrolled and returns its `ConsoleKeys` (the caller writes the key file); `revoke` marks
it revoked (kept, with the date, for `hall-hub consoles`). The book is one JSON file in
the keys folder, written atomically (0600); the running hub rereads it when its mtime
changes (`EnrolmentBook.changed`), so enrolment and revocation need no restart.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from dispatch.client.keys import NAME_PATTERN, Z85_KEY, ConsoleKeys, valid_name
from dispatch.domain.strict import FROZEN
from dispatch.hub.clock import utc_now
from dispatch.hub.keys import ensure_private_dir, load_or_create_hub_keys, new_keypair
from streams.private import write_private

BOOK_FILE = "consoles.json"


class EnrolError(ValueError):
    """An enrolment that cannot be done (bad name, already enrolled, unknown)."""


class Enrolment(BaseModel):
    model_config = FROZEN

    name: str = Field(pattern=NAME_PATTERN, description="the workstation's name")
    public_key: str = Field(pattern=Z85_KEY, description="its CURVE public key")
    enrolled_at: datetime = Field(description="when it was enrolled (UTC)")
    revoked_at: datetime | None = Field(default=None, description="when it was revoked")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Book(BaseModel):
    model_config = FROZEN

    consoles: tuple[Enrolment, ...] = Field(default=(), description="every enrolment, in order")

    def allowed(self) -> dict[str, str]:
        """public key → name of every enrolment that is not revoked."""
        return {e.public_key: e.name for e in self.consoles if e.active}

    def active(self, name: str) -> Enrolment | None:
        return next((e for e in self.consoles if e.name == name and e.active), None)


def book_path(keys_dir: Path) -> Path:
    return keys_dir / BOOK_FILE


def read_book(keys_dir: Path) -> Book:
    """The enrolments (none when there is no book yet)."""
    try:
        raw = book_path(keys_dir).read_bytes()
    except FileNotFoundError:
        return Book()
    try:
        return Book.model_validate_json(raw)
    except ValidationError:
        raise EnrolError(f"{book_path(keys_dir)}: not an enrolment book") from None


def _write_book(keys_dir: Path, book: Book) -> None:
    write_private(book_path(keys_dir), (book.model_dump_json(indent=2) + "\n").encode())


def _now() -> datetime:
    return utc_now()


def enrol(
    keys_dir: Path, name: str, *, req_endpoint: str = "", pub_endpoint: str = ""
) -> ConsoleKeys:
    """Enrol workstation `name` with a new key pair; its key file's content is returned.
    `EnrolError` for a bad name or a name already enrolled (revoke it first)."""
    if not valid_name(name):
        raise EnrolError(f"bad workstation name {name!r}: letters, digits, '-' and '_' only")
    ensure_private_dir(keys_dir)
    hub = load_or_create_hub_keys(keys_dir)
    book = read_book(keys_dir)
    if book.active(name) is not None:
        raise EnrolError(f"workstation {name!r} is already enrolled (revoke it first)")
    public, secret = new_keypair()
    entry = Enrolment(name=name, public_key=public, enrolled_at=_now())
    _write_book(keys_dir, Book(consoles=(*book.consoles, entry)))
    return ConsoleKeys(
        name=name,
        public_key=public,
        secret_key=secret,
        hub_public_key=hub.public_key,
        req_endpoint=req_endpoint,
        pub_endpoint=pub_endpoint,
    )


def revoke(keys_dir: Path, name: str) -> Enrolment:
    """Revoke the active enrolment of `name`; `EnrolError` if there is none."""
    book = read_book(keys_dir)
    entry = book.active(name)
    if entry is None:
        raise EnrolError(f"workstation {name!r} is not enrolled")
    done = entry.model_copy(update={"revoked_at": _now()})
    _write_book(keys_dir, Book(consoles=tuple(done if e is entry else e for e in book.consoles)))
    return done


def describe(book: Book) -> list[str]:
    """One line per enrolment for `hall-hub consoles` (name, state, dates)."""
    lines = []
    for e in book.consoles:
        when = e.enrolled_at.strftime("%Y-%m-%d %H:%M")
        if e.revoked_at is None:
            lines.append(f"{e.name}\tenrolled {when}")
        else:
            lines.append(f"{e.name}\tenrolled {when}\trevoked {e.revoked_at:%Y-%m-%d %H:%M}")
    return lines


class EnrolmentBook:
    """The running hub's view of the book: the allowed keys, reread when the file changes."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._stamp: tuple[int, int] | None = None
        self._allowed: dict[str, str] = {}

    @property
    def allowed(self) -> dict[str, str]:
        """public key (Z85) → workstation name, for every enrolment not revoked."""
        return self._allowed

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(book_path(self.keys_dir))
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_ino

    def changed(self) -> set[str] | None:
        """Reread the book if its file changed: None when it did not, else the public
        keys that were allowed and are no longer (revoked, replaced)."""
        stamp = self._file_stamp()
        if stamp == self._stamp and self._stamp is not None:
            return None
        before = self._allowed
        self._allowed = read_book(self.keys_dir).allowed()
        self._stamp = stamp
        return set(before) - set(self._allowed)

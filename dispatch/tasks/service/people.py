"""The people of the site as the dispatch service sees them: lookup by id, names."""

from __future__ import annotations

from collections.abc import Mapping

from dispatch.domain.model import mask_phone
from dispatch.domain.site import Person, Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.tasks.messages import PersonInfo


def person_info(p: Person) -> PersonInfo:
    """A person on the wire (phone number masked)."""
    return PersonInfo(id=p.id, name=p.name, role=p.role, phone=mask_phone(p.phone))


class People:
    """The site's people by id (none without a site)."""

    def __init__(self, site: Site | None) -> None:
        self._by_id: dict[str, Person] = {p.id: p for p in site.people} if site else {}

    def get(self, person_id: str) -> Person | None:
        return self._by_id.get(person_id)

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._by_id

    def names(self) -> Mapping[str, str]:
        return {p.id: p.name for p in self._by_id.values()}

    def person(self, person_id: str) -> Person:
        """The person, or HubError NOT_FOUND."""
        p = self._by_id.get(person_id)
        if p is None:
            raise HubError(ErrorCode.NOT_FOUND, f"人员不存在 / no person {person_id!r}")
        return p

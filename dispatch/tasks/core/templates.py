"""Instruction templates: the text of a dispatch per event category, from a TOML file.

Pure except `load_templates` (reads the file). Placeholders are checked when parsed.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from dispatch.domain.model import DEFAULT_CATEGORIES, Event
from dispatch.domain.strict import FROZEN
from dispatch.tasks.core.labels import PRIORITY_LABELS_ZH

PLACEHOLDERS: frozenset[str] = frozenset(
    {"title", "place", "deadline", "category", "priority", "event_id", "grid"}
)
FALLBACK_CATEGORY = "other"


class TemplateError(ValueError):
    """A template file or template that cannot be used; the message names which."""


class InstructionTemplates(BaseModel):
    """Instruction text per category id; placeholders are checked when parsed."""

    model_config = FROZEN

    templates: dict[str, str]
    source: str = "<templates>"

    def for_category(self, category: str) -> str:
        if category in self.templates:
            return self.templates[category]
        if FALLBACK_CATEGORY in self.templates:
            return self.templates[FALLBACK_CATEGORY]
        raise TemplateError(
            f"{self.source}: no template for category {category!r} and no "
            f"{FALLBACK_CATEGORY!r} template (缺少派单指令模板)"
        )


def _check_template(source: str, category: str, text: str) -> None:
    where = f"{source}: templates.{category}"
    if not text.strip():
        raise TemplateError(f"{where}: empty template")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            f"{where}: bad braces: {exc} (use {{{{ }}}} for literal braces)"
        ) from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise TemplateError(f"{where}: unknown placeholder {{{field}}}; known: {known}")
        if spec or conversion:
            raise TemplateError(f"{where}: placeholder {{{field}}} takes no format or conversion")


def parse_templates(text: str, source: str = "<templates>") -> InstructionTemplates:
    """Parse the TOML text of an instruction template file (`[templates] category = "…"`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML: {exc}") from None
    table = data.get("templates")
    if not isinstance(table, dict) or not table:
        raise TemplateError(f"{source}: needs a non-empty [templates] table")
    out: dict[str, str] = {}
    for category, value in table.items():
        if not isinstance(value, str):
            raise TemplateError(f"{source}: templates.{category}: must be a string")
        _check_template(source, category, value)
        out[category] = value.strip()
    return InstructionTemplates(templates=out, source=source)


def default_templates_path() -> Path:
    return Path(__file__).resolve().parents[3] / "resources" / "templates" / "instructions.toml"


def load_templates(path: str | Path | None = None) -> InstructionTemplates:
    """Read and parse a template file (the packaged one by default): the only I/O here."""
    p = Path(path) if path is not None else default_templates_path()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{p}: cannot read template file: {exc}") from None
    return parse_templates(text, str(p))


def format_deadline(deadline: datetime | None) -> str:
    """ "3月5日14:30前" in the deadline's own time zone, or "尽快" without one."""
    if deadline is None:
        return "尽快"
    return f"{deadline.month}月{deadline.day}日{deadline:%H:%M}前"


def instruction_for(
    category: str,
    event: Event,
    templates: InstructionTemplates,
    *,
    place: str | None = None,
    deadline: datetime | None = None,
    grid: str = "",
    categories: Mapping[str, str] = DEFAULT_CATEGORIES,
) -> str:
    """The instruction for dispatching `event`, from the template of `category`.

    `place` is the place in words (`dispatch.domain.geo.describe_place`), default the event's
    address; `deadline` renders as "3月5日14:30前" (or "尽快" when None) so that a
    template reads "请{deadline}到场核实". A category without a template uses "other".
    """
    values = {
        "title": event.title.strip(),
        "place": (place if place is not None else event.place.address).strip() or "地点待核实",
        "deadline": format_deadline(deadline),
        "category": categories.get(category, category),
        "priority": PRIORITY_LABELS_ZH[event.priority],
        "event_id": event.id,
        "grid": grid,
    }
    return templates.for_category(category).format_map(values)

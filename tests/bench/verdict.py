"""What a benchmark checks, beside what it measures: a list of named pass/fail checks.

A benchmark that only prints figures can report success while a user would see a lost
event or a frozen stream; each bench therefore records what must hold (nothing lost,
every station answered, each stream at its size) as checks, prints them under its
table and exits non-zero when one fails (`Verdict.exit_code`). The JSON line carries
`checks_failed` (the names) so a caller can read why.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def lines(self) -> list[str]:
        out = ["checks:"]
        for c in self.checks:
            out.append(
                f"  {'ok  ' if c.ok else 'FAIL'} {c.name}" + (f": {c.detail}" if c.detail else "")
            )
        return out

    def print(self) -> None:
        print("\n".join(self.lines()), flush=True)

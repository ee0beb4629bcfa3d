"""Fails when a module is over 600 lines or a function over 80 lines (tests and migrations aside).

    python scripts/check_sizes.py [--max-module 600] [--max-function 80] [PATH ...]

A function's length counts from its `def` line (decorators included) to its last line,
nested functions included in the outer one's count as they are part of its body.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ("console", "streams", "dispatch")
SKIP_PARTS = {"migrations", "tests", "__pycache__"}


def source_files(roots: list[Path]) -> Iterator[Path]:
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            if not SKIP_PARTS.intersection(path.parts):
                yield path


def long_functions(tree: ast.AST, limit: int) -> Iterator[tuple[str, int, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > limit:
                yield node.name, node.lineno, length


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="*", type=Path)
    p.add_argument("--max-module", type=int, default=600)
    p.add_argument("--max-function", type=int, default=80)
    a = p.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    roots = a.paths or [root / pkg for pkg in PACKAGES]
    problems: list[str] = []
    for path in source_files(roots):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        if lines > a.max_module:
            problems.append(f"{shown}: module has {lines} lines (max {a.max_module})")
        for name, lineno, length in long_functions(ast.parse(text), a.max_function):
            problems.append(
                f"{shown}:{lineno}: function {name} has {length} lines (max {a.max_function})"
            )
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} size problems")
        return 1
    print("sizes ok: no module over", a.max_module, "lines, no function over", a.max_function)
    return 0


if __name__ == "__main__":
    sys.exit(main())

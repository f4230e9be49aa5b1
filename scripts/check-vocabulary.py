#!/usr/bin/env python3
"""Checks that every binding follows the naming table of bindings/README.md.

Reads the public declarations of each binding from its sources (Python modules, Kotlin and Swift
sources, the C header) and fails when a name of the table is not declared by its binding, when a
retired name is still declared by any, or when a binding's `flush` default is not the table's.

    python3 scripts/check-vocabulary.py        # from anywhere; exit status 1 on a mismatch
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "bindings" / "README.md"
LANGUAGES = ("Python", "Kotlin", "Swift", "C")


def read(paths: list[Path]) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def python_names() -> set[str]:
    """Public module-level names, public classes' members, and their parameters' names."""
    package = ROOT / "bindings" / "python" / "python" / "mizu_sync"
    names: set[str] = set()

    def add_function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        names.add(node.name)
        args = node.args
        names.update(a.arg for a in args.args + args.kwonlyargs + args.posonlyargs)

    # The generated UniFFI module is private (`_native`): only the wrapper's names are public.
    for source in sorted(package.glob("*.py")):
        if source.name == "mizu_sync.py":
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not node.name.startswith("_"):
                    add_function(node)
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                names.add(node.name)
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        if not member.name.startswith("_") or member.name == "__init__":
                            add_function(member)
                    # A dataclass's fields (`has_synced: bool`).
                    elif isinstance(member, ast.AnnAssign) and isinstance(member.target, ast.Name):
                        names.add(member.target.id)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def parameter(line: str) -> str | None:
    """The name of a Kotlin or Swift parameter declared alone on its line (`name: Type = x,`)."""
    m = re.match(r"^\s*(?:_\s+)?([a-z]\w*)\s*:\s*[^=\s]", line)
    return m.group(1) if m else None


def kotlin_names() -> set[str]:
    sources = sorted((ROOT / "bindings" / "kotlin" / "src" / "main").rglob("*.kt"))
    names: set[str] = set()
    for line in read(sources).splitlines():
        if re.search(r"\b(private|internal)\b", line):
            continue
        # `fun <T> Receiver<T>.name(`, `suspend fun name(`, `val name:`, `class Name`, ...
        m = re.search(
            r"\b(?:fun|val|var|class|interface|object)\s+(?:<[^>]*>\s*)?([\w.<>?, ]*?)\b([A-Za-z]\w*)\s*[(:<{=]?",
            line,
        )
        if m:
            names.add(m.group(2))
        elif parameter(line):
            names.add(parameter(line))
    return names


def swift_names() -> set[str]:
    sources = sorted((ROOT / "bindings" / "swift" / "Sources" / "MizuSync").glob("*.swift"))
    names: set[str] = set()
    for line in read(sources).splitlines():
        if parameter(line):
            names.add(parameter(line))
        # An enum case (`case wrongKey(reason: String)`): public with its enum.
        case = re.match(r"^\s*case\s+([a-z]\w*)\s*[(:=]?", line)
        if case and not line.rstrip().endswith(":"):
            names.add(case.group(1))
        if not re.search(r"\b(public|open)\b", line):
            continue
        m = re.search(
            r"\b(?:func|var|let|class|struct|enum|protocol|actor|typealias)\s+([A-Za-z]\w*)", line
        )
        if m:
            names.add(m.group(1))
    return names


def c_header() -> str:
    return (ROOT / "bindings" / "c" / "include" / "mizu_sync.h").read_text(encoding="utf-8")


def section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in section(text, "Names").splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "Concept":
            if cells[1:] != list(LANGUAGES):
                raise SystemExit(f"unexpected table header: {cells}")
            continue
        if len(cells) != 1 + len(LANGUAGES):
            raise SystemExit(f"a row needs {1 + len(LANGUAGES)} cells: {line}")
        rows.append(cells)
    return rows


def names_in(cell: str) -> list[str]:
    return [n.rstrip("()").split(".")[-1] for n in re.findall(r"`([^`]+)`", cell)]


FLUSH_DEFAULTS = {
    "Python": (
        ROOT / "bindings/python/python/mizu_sync/_client.py",
        r"def flush(?:_async)?\(self, timeout: float = 30(?:\.0)?\)",
    ),
    "Kotlin": (
        ROOT / "bindings/kotlin/src/main/kotlin/dev/mizu/sync/Client.kt",
        r"fun flush\w*\(timeout: Duration = 30\.seconds\)",
    ),
    "Swift": (
        ROOT / "bindings/swift/Sources/MizuSync/Client.swift",
        r"func flush\(timeout: TimeInterval = 30\)",
    ),
}


def main() -> int:
    text = TABLE.read_text(encoding="utf-8")
    declared = {"Python": python_names(), "Kotlin": kotlin_names(), "Swift": swift_names()}
    header = c_header()

    def has(language: str, name: str) -> bool:
        if language == "C":
            return re.search(rf"\b{re.escape(name)}\b", header) is not None
        return name in declared[language]

    problems = []
    rows = table_rows(text)
    for cells in rows:
        concept, per_language = cells[0], dict(zip(LANGUAGES, cells[1:]))
        for language, cell in per_language.items():
            for name in names_in(cell):
                if not has(language, name):
                    problems.append(f"{language}: `{name}` ({concept}) is not declared")
    retired = names_in(section(text, "Retired names"))
    for name in retired:
        for language in LANGUAGES:
            if has(language, name):
                problems.append(f"{language}: retired name `{name}` is still declared")
    for language, (path, pattern) in FLUSH_DEFAULTS.items():
        if not re.search(pattern, path.read_text(encoding="utf-8")):
            problems.append(f"{language}: flush's default timeout is not 30 s ({path.name})")

    for p in problems:
        print(f"check-vocabulary: {p}", file=sys.stderr)
    if problems:
        print(f"check-vocabulary: {len(problems)} problem(s); see bindings/README.md", file=sys.stderr)
        return 1
    print(f"check-vocabulary: {len(rows)} concepts, {len(retired)} retired names: all bindings agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

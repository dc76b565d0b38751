"""Fail on function-local imports of project modules that do not say why.

A local import is how an import cycle hides from the layer contracts (``lint-imports`` sees
it, but a reader does not), so each one must carry a comment on its line giving the reason
(``# local import: ...``). ``make lint`` runs this over the project's packages.

Usage: python tools/local_imports.py [PACKAGE_DIR ...]   (default: casebook cases)
"""

import ast
import sys
from pathlib import Path

PROJECT_PACKAGES = ("casebook", "cases", "networks", "search")
REASON = "# local import:"


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return ["." if node.level else (node.module or "")]
    return [alias.name for alias in node.names]


def offending_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, source line) of each undocumented local import of a project module."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for function in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            modules = _imported_modules(node)
            ours = any(m == "." or m.split(".")[0] in PROJECT_PACKAGES for m in modules)
            line = lines[node.lineno - 1]
            if ours and REASON not in line:
                found.append((node.lineno, line.strip()))
    return found


def main(argv: list[str]) -> int:
    roots = [Path(arg) for arg in argv] or [Path("casebook"), Path("cases")]
    failures = 0
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for lineno, line in offending_lines(path):
                print(f"{path}:{lineno}: local import without '{REASON} <why>': {line}")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

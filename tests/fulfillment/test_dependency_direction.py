"""escalation → inquiries → orders → fulfillment (kernel): never the other way
(ARCHITECTURE.md, "Dependency direction"). A lower app that imports a higher one fails here."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LADDER = ["fulfillment", "orders", "inquiries", "escalation"]
#: Apps above the ladder (they may use it; nothing on it imports them).
TOP_LEVEL = ["helpcenter", "portal", "reports"]
#: The project wiring in the kernel package names every app by design (URLs, the Celery app).
WIRING = {"fulfillment/urls.py", "fulfillment/settings.py", "fulfillment/settings_test.py", "fulfillment/celery.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", LADDER)
def test_no_app_imports_one_above_it(app):
    above = set(LADDER[LADDER.index(app) + 1 :]) | set(TOP_LEVEL)
    offenders = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in WIRING or "/migrations/" in relative:
            continue
        wrong = _imports(path) & above
        if wrong:
            offenders.append(f"{relative} imports {', '.join(sorted(wrong))}")
    assert offenders == []

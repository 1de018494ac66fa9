"""The layers of docs/architecture.md: each imports only the layers below it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"audit", "dealdesk", "contracts", "approvals", "billing", "inbox", "insights"}
# package → the project packages it may import (itself included)
ALLOWED = {
    "audit": {"audit"},
    "dealdesk/integrations": {"audit", "dealdesk.integrations"},
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name.split(".")[0] in PROJECT}


def _violations(package: str, allowed: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        for name in sorted(_imports(path))
        if not any(name == a or name.startswith(a + ".") for a in allowed)
    ]


def test_the_lower_layers_never_import_upward():
    problems = [v for package, allowed in ALLOWED.items() for v in _violations(package, allowed)]
    assert problems == []


def test_the_core_names_the_upper_apps_only_as_task_paths():
    upper = {"contracts", "approvals", "billing", "inbox", "insights"}
    problems = [
        v
        for v in _violations("dealdesk", {"audit", "dealdesk"})
        if v.split(" imports ")[1].split(".")[0] in upper
        and "management/commands/seed_demo.py" not in v  # the demo walks deals through every app
    ]
    assert problems == []


def test_the_crm_is_one_package():
    assert sorted(p.name for p in (ROOT / "dealdesk").glob("crm_*.py")) == []


def test_contracts_sit_below_approvals_and_esign_above_them():
    # contracts.esign lives in the contracts package but signs only approved deals: it may
    # read approvals; the rest of contracts may not, nor reach into esign.
    problems = [
        v
        for v in _violations("contracts", {"audit", "dealdesk", "contracts"})
        + _violations("contracts", {"approvals"})
        if not v.startswith("contracts/esign/")
        and v.split(" imports ")[1].startswith(("approvals", "contracts.esign"))
    ]
    assert problems == []

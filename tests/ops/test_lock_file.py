"""Installs come from requirements.lock: every dependency pinned, with hashes, and every range
pyproject.toml declares satisfied by its pin (a lock left behind by a pyproject change fails
here, not on a fresh machine)."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;]+)")


def _pins() -> dict[str, str]:
    pins = {}
    for entry in re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text()):
        if entry.startswith("#") or not entry.strip():
            continue
        match = PIN.match(entry)
        assert match, f"not a pin: {entry[:80]}"
        assert "--hash=sha256:" in entry, f"{match[1]} has no hash"
        pins[canonicalize_name(match[1])] = match[3]
    return pins


def test_every_declared_dependency_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = project["project"]["dependencies"] + [
        spec for group in project["dependency-groups"].values() for spec in group
    ]
    pins = _pins()
    for spec in map(Requirement, declared):
        name = canonicalize_name(spec.name)
        assert name in pins, f"{spec} is not in requirements.lock: run `make lock`"
        assert spec.specifier.contains(pins[name], prereleases=True), (
            f"{spec} but the lock pins {pins[name]}: run `make lock`"
        )


def test_make_installs_only_what_the_lock_pins():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes --no-deps -r $(LOCK)" in makefile
    assert "$(STAMP): $(LOCK) pyproject.toml" in makefile

"""bin/system-packages: the Debian packages step of `make run`, `make test` and `.ci/run`."""

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bin" / "system-packages"


def _run(tmp_path: Path, *, installed: bool, target: str = "test") -> subprocess.CompletedProcess:
    """Run the script as a user who is not root and cannot sudo without a password: dpkg,
    id and sudo are small stand-ins on PATH, so nothing is installed by the test."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {
        "dpkg": f"exit {0 if installed else 1}",
        "id": "echo 1000",
        "sudo": "exit 1",  # -n: a password would be needed
    }.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    return subprocess.run(  # noqa: S603
        ["/bin/bash", str(SCRIPT), target],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_nothing_missing_installs_nothing_and_says_nothing(tmp_path):
    result = _run(tmp_path, installed=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_without_root_it_stops_at_once_with_the_one_command_to_run(tmp_path):
    result = _run(tmp_path, installed=False)
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y -qq --no-install-recommends " in (
        result.stderr
    )
    for package in ("fonts-noto-core", "fonts-noto-cjk", "libharfbuzz-subset0", "chromium"):
        assert package in result.stderr
    assert "installing" not in result.stdout


def test_run_needs_no_browser_and_ci_needs_redis_too(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "ci").mkdir()
    assert "chromium" not in _run(tmp_path / "run", installed=False, target="run").stderr
    assert "redis-server" in _run(tmp_path / "ci", installed=False, target="ci").stderr

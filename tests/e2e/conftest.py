"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live_server."""

from pathlib import Path

import pytest
from django.core.management import call_command

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Never a downloaded browser: the machine's own, with the flags a closed network needs.
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves var/screenshots/name.png of the current page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    def log_in(username: str, password: str = "pw-for-tests-only") -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")

    return log_in


@pytest.fixture
def demo():
    # The live server reads through its own connection, so the data must be committed;
    # transactional tests start from an empty database, and seed_demo restores the roles.
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

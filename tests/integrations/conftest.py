import pytest

from tests.integrations import steps


@pytest.fixture(autouse=True)
def _reset_steps():
    steps.reset()
    yield
    steps.reset()

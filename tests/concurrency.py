"""Calls made at the same moment on threads, as concurrent requests and workers make them: the
race tests (mostly PostgreSQL's, where row locks decide)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call on a thread of its own, all released together by a barrier, and wait for
    them: each call's result, or the exception it raised, in the order given. Every thread
    closes the database connection Django opened for it."""
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            outcomes[index] = call()
        except BaseException as exc:  # the caller's to judge
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def raised(outcomes: list[Any]) -> list[BaseException]:
    """The exceptions among at_once's outcomes."""
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]

"""read_ahead: the sync's pages in order, errors where they happened, nothing left running."""

import threading

import pytest

from dealdesk.crm.base import CRMError, read_ahead


def test_pages_come_in_order_and_the_next_is_fetched_meanwhile():
    fetched_ahead = threading.Event()

    def pages():
        yield [1]
        fetched_ahead.set()  # runs while the consumer still holds page 1
        yield [2]

    received = []
    for page in read_ahead(pages()):
        if page == [1]:
            assert fetched_ahead.wait(5)
        received.append(page)
    assert received == [[1], [2]]


def test_an_error_is_raised_where_its_page_would_have_come():
    def pages():
        yield [1]
        raise CRMError(
            "Salesforce API request limit exceeded", code=CRMError.REQUEST_LIMIT_EXCEEDED
        )

    iterator = read_ahead(pages())
    assert next(iterator) == [1]
    with pytest.raises(CRMError) as caught:
        next(iterator)
    assert caught.value.code == CRMError.REQUEST_LIMIT_EXCEEDED


def test_a_consumer_that_stops_early_stops_the_fetching():
    closed = threading.Event()

    def pages():
        try:
            for n in range(1_000):
                yield [n]
        finally:
            closed.set()

    for page in read_ahead(pages()):
        if page == [2]:
            break
    assert closed.is_set()
    assert not any(t.name == "crm-read-ahead" for t in threading.enumerate())

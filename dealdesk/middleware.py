"""Request hygiene that every page and form shares."""

import re
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

# Control characters no person types: NUL (PostgreSQL refuses it in text: a 500 deep in a
# save), the rest of C0 and C1, DEL. Tab, newline and carriage return are multi-line text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Only these bodies are parsed into request.POST; any other (a webhook's raw JSON) is left
# unread for its view to verify.
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# SQLite's answer when another writer held the lock past the timeout: worth a retry.
DATABASE_BUSY = "Someone else was saving at the same moment and nothing was saved: try again."


class RefuseControlCharactersMiddleware:
    """Answer 400 with a message when a query string or form value (or name) holds a control
    character, before any form, filter or query sees it. One check for every form and list
    filter, instead of a clean method each one could forget. Uploaded files are not text and
    are not looked at."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _holds_control_characters(request):
            return render(request, "400_bad_input.html", status=400)
        return self.get_response(request)


def _holds_control_characters(request: HttpRequest) -> bool:
    sources = [request.GET]
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        sources.append(request.POST)
    return any(
        CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(v) for v in values)
        for source in sources
        for key, values in source.lists()
    )


def is_database_locked(exc: Exception) -> bool:
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


class DatabaseBusyMiddleware:
    """SQLite (a laptop) lets one writer at a time; one that waited past the timeout gets
    a page saying try again instead of a 500. Nothing was saved: the transaction rolled
    back. Views that answer in place (htmx decisions) catch it themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_locked(exception):
            return None
        return render(request, "503_database_busy.html", {"message": DATABASE_BUSY}, status=503)


class MethodNotAllowedPageMiddleware:
    """Django answers a wrong method (a bookmarked form action opened as a link) with an
    empty 405; a browser gets a page with the navigation and a way back instead, with the
    same status and Allow header. Other clients (htmx, scripts) keep the bare answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not isinstance(response, HttpResponseNotAllowed) or not _is_page_request(request):
            return response
        page = render(request, "405.html", status=405)
        page["Allow"] = response["Allow"]
        return page


def _is_page_request(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "") and "HX-Request" not in request.headers

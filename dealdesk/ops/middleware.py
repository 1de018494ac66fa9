"""The operations middleware: the first two entries of MIDDLEWARE."""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from dealdesk.ops import views
from dealdesk.ops.metrics import request_observe
from dealdesk.ops.request_id import HEADER, current_request_id, request_id_from

access_log = logging.getLogger("dealdesk.access")

OPS_ENDPOINTS = {"/healthz": views.healthz, "/metrics": views.metrics}


class OpsEndpointsMiddleware:
    """Answers /healthz and /metrics before anything else runs. Load balancers and Prometheus
    address an instance by its IP over plain http: the host check (ALLOWED_HOSTS) and the
    https redirect would refuse them, and sessions and login mean nothing to them. Neither
    endpoint builds a URL from the Host header, so skipping the host check is safe."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = OPS_ENDPOINTS.get(request.path_info.rstrip("/"))
        if endpoint is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return endpoint(request)


class RequestIdMiddleware:
    """Gives the request its id (the client's X-Request-ID when sane, else a new one): every
    log line written for it and every task it enqueues carries it, and the response returns
    it. Counts and times the request for /metrics, and writes the access log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id_from(request.headers.get(HEADER))
        token = current_request_id.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            # The URL pattern's name, never the path: a label's values must stay few.
            match = request.resolver_match
            view = (match.view_name or match.func.__name__) if match else "unmatched"
            request_observe(
                method=request.method or "", status=response.status_code, view=view, seconds=seconds
            )
            # The view, not the path: a path may hold a signer's one-time token.
            access_log.info(
                "%s %s %s %.0f ms", request.method, view, response.status_code, seconds * 1000
            )
        finally:
            current_request_id.reset(token)
        response[HEADER] = request.request_id
        return response

"""GET /healthz and GET /metrics, served by OpsEndpointsMiddleware (dealdesk/ops/middleware.py)
before the host check, the https redirect, sessions and login."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from dealdesk.ops.health import CHECKS, health
from dealdesk.ops.metrics import exposition

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, else 503 naming the failing ones. `?check=database`
    (repeatable) runs only those: what a load balancer should ask (docs/deploy.md)."""
    wanted = request.GET.getlist("check")
    unknown = sorted(set(wanted) - set(CHECKS))
    if unknown:
        return JsonResponse({"error": f"unknown check(s): {', '.join(unknown)}"}, status=400)
    results = health([name for name in CHECKS if not wanted or name in wanted])
    failing = [name for name, result in results.items() if not result["ok"]]
    response = JsonResponse(
        {"status": "failing" if failing else "ok", "failing": failing, "checks": results},
        status=503 if failing else 200,
    )
    response["Cache-Control"] = "no-store"
    # Each failing check is logged by name (dealdesk/ops/health.py); Django's own "Service
    # Unavailable" error line for every probe of a load balancer would only bury them.
    response._has_been_logged = True
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's scrape, for a bearer token from METRICS_TOKEN; without one configured
    the endpoint does not exist (404), so a forgotten setting exposes nothing."""
    tokens = settings.METRICS_TOKENS
    if not tokens:
        return HttpResponse(status=404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
    # Every token compared, in constant time: neither which one matched nor how far leaks.
    matches = [hmac.compare_digest(given, token.encode()) for token in tokens]
    if not any(matches):
        response = HttpResponse("a bearer token from METRICS_TOKEN is needed\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=METRICS_CONTENT_TYPE)

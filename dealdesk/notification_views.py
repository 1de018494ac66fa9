"""The bell's page: what waits for the person, newest first; opening one marks it read."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dealdesk.models import Notification
from dealdesk.notifications import (
    notification_open,
    notifications_for,
    notifications_mark_all_read,
)

PAGE_SIZE = 50


def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/list.html", {"page": page, "query": ""})


@require_POST
def notification_go(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    try:
        target = notification_open(user=request.user, notification_id=pk)
    except Notification.DoesNotExist as exc:  # someone else's, or none: nothing to say
        raise Http404 from exc
    return HttpResponseRedirect(target)


@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return redirect("notification-list")

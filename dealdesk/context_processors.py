"""Template context shared by every page: the navigation the user's roles allow and the
bell's unread count."""

from django.http import HttpRequest

from dealdesk.notifications import Bell
from dealdesk.roles import navigation_for


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": navigation_for(user), "bell": Bell(user)}

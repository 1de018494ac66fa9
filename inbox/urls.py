from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("count/", views.nav_count, name="nav-count"),
    path("assign/", views.assign, name="assign"),
    path("unassign/", views.unassign, name="unassign"),
    path("digest/", views.digest_preference, name="digest"),
]

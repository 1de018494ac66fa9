from django.urls import path

from approvals import views

urlpatterns = [
    path("", views.my_approvals, name="my-approvals"),
    path("count/", views.nav_count, name="approvals-nav-count"),
    path("approve-selected/", views.approve_selected, name="approvals-approve-selected"),
    path("<int:pk>/decide/", views.decide, name="approval-decide"),
    path("delegations/", views.delegation_create, name="approval-delegation-create"),
    path(
        "delegations/<int:pk>/revoke/", views.delegation_revoke, name="approval-delegation-revoke"
    ),
]

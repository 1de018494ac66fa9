from django.urls import path

from contracts import views

urlpatterns = [
    path("review/", views.review_queue, name="contract-review-queue"),
    path("library/params/", views.library_params, name="contract-library-params"),
    path("<int:pk>/", views.version_detail, name="contract-version"),
    path("<int:pk>/diff/", views.version_diff, name="contract-diff"),
    path("<int:pk>/document.<str:kind>", views.version_document, name="contract-document"),
    path(
        "<int:pk>/clauses/<int:index>/<slug:action>/",
        views.clause_action,
        name="contract-clause-action",
    ),
    path("<int:pk>/<slug:action>/", views.version_action, name="contract-action"),
]

from django.urls import path

from approvals import views

urlpatterns = [
    path("", views.my_approvals, name="my-approvals"),
    path("<int:pk>/decide/", views.decide, name="approval-decide"),
]

from django.urls import path

from dealdesk.security import views

urlpatterns = [
    path("two-factor/", views.two_factor_setup, name="two-factor-setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
]

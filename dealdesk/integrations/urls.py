from django.urls import path

from dealdesk.integrations import views

urlpatterns = [path("webhooks/<slug:vendor>/", views.webhook, name="webhook")]

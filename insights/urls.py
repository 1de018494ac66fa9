from django.urls import path

from insights import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("deals/", views.dashboard_deals, name="deals"),
    path("export.csv", views.dashboard_export, name="export"),
]

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("deals/<int:deal_id>/retry/", views.billing_retry, name="retry"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice-pdf"),
]

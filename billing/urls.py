from django.urls import path

from billing import api_views, ar_views, finance_views, panel_actions, payment_views, views
from billing.stripe_sync.webhook import stripe_webhook

app_name = "billing"

urlpatterns = [
    path("deals/<int:deal_id>/retry/", views.billing_retry, name="retry"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice-pdf"),
    path("credit-notes/<int:pk>/pdf/", views.credit_note_pdf, name="credit-note-pdf"),
    # Go-live dates and first-invoice release (billing/panel_actions.py, billing/api_views.py)
    path("deals/<int:deal_id>/go-live/", panel_actions.go_live_set, name="go-live"),
    path("invoices/<int:pk>/release/", panel_actions.invoice_release, name="invoice-release"),
    path("api/deals/<int:deal_id>/go-live/", api_views.go_live_post, name="api-go-live"),
    # Stripe's events (billing/stripe_sync/webhook.py)
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    # Finance's pages (billing/finance_views.py)
    path("", finance_views.finance_home, name="home"),
    path("exceptions/", finance_views.exception_list, name="exceptions"),
    path("exceptions/<int:pk>/", finance_views.exception_detail, name="exception"),
    path("invoices/", finance_views.invoice_list, name="invoices"),
    path("dead-letters/", finance_views.dead_letter_list, name="dead-letters"),
    path(
        "dead-letters/<str:kind>/<int:pk>/retry/",
        finance_views.dead_letter_retry,
        name="dead-letter-retry",
    ),
    # Payments and bank imports (billing/payment_views.py)
    path("payments/", payment_views.payment_list, name="payments"),
    path("payments/new/", payment_views.payment_new, name="payment-new"),
    path("imports/", payment_views.import_list, name="imports"),
    path("imports/new/", payment_views.import_new, name="import-new"),
    path("imports/<int:pk>/", payment_views.import_detail, name="import-detail"),
    path("imports/<int:pk>/commit/", payment_views.import_commit, name="import-commit"),
    path("imports/<int:pk>/discard/", payment_views.import_discard, name="import-discard"),
    # The AR queue (billing/ar_views.py)
    path("ar/", ar_views.ar_queue, name="ar"),
    path("ar/tolerances/", ar_views.ar_tolerances, name="ar-tolerances"),
    path("ar/<int:pk>/", ar_views.ar_item, name="ar-item"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from audit.evidence import views as evidence_views
from dealdesk import access_review, audit_log, notification_views, owner_views, views
from dealdesk.crm import views as crm_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="deal-list"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("dealdesk.security.urls")),
    path("admin/", admin.site.urls),
    path("deals/", views.deal_list, name="deal-list"),
    path("deals/export.csv", views.deal_list_export, name="deal-list-export"),
    path("deals/saved-filters/", views.deal_filter_save, name="deal-filter-save"),
    path(
        "deals/saved-filters/<int:pk>/delete/",
        views.deal_filter_delete,
        name="deal-filter-delete",
    ),
    path("deals/<int:pk>/", views.deal_detail, name="deal-detail"),
    path("deals/<int:pk>/owner/", owner_views.deal_owner_assign, name="deal-owner-assign"),
    path("deals/<int:pk>/<slug:action>/", views.deal_action, name="deal-action"),
    path("crm/", crm_views.crm_sync_page, name="crm-sync"),
    path("crm/sync-now/", crm_views.crm_sync_now, name="crm-sync-now"),
    path(
        "crm/drift/<int:pk>/<slug:decision>/", crm_views.crm_drift_decide, name="crm-drift-decide"
    ),
    path("contracts/esign/", include("contracts.esign.urls")),
    path("contracts/", include("contracts.urls")),
    path("signatures/", include("contracts.esign.desk_urls")),
    path("approvals/", include("approvals.urls")),
    path("billing/", include("billing.urls")),
    path("inbox/", include("inbox.urls")),
    path("insights/", include("insights.urls")),
    path("access-review/", access_review.access_review, name="access-review"),
    path("audit/", audit_log.audit_log_page, name="audit-log"),
    path("audit/evidence/", evidence_views.evidence_sample_page, name="audit-evidence"),
    path(
        "audit/evidence/deals/<int:pk>/",
        evidence_views.evidence_pack_download,
        name="audit-evidence-deal",
    ),
    path("notifications/", notification_views.notification_list, name="notification-list"),
    path(
        "notifications/read-all/",
        notification_views.notifications_read_all,
        name="notifications-read-all",
    ),
    path("notifications/<int:pk>/", notification_views.notification_go, name="notification-go"),
    path("", include("dealdesk.integrations.urls")),
]

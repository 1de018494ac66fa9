"""Deal Desk's signature screens, under /signatures/ (namespace "esign-desk")."""

from django.urls import path

from contracts.esign import desk_views

app_name = "esign-desk"

urlpatterns = [
    path("", desk_views.signature_list, name="list"),
    path("deals/<int:deal_id>/panel/", desk_views.deal_panel, name="panel"),
    path("deals/<int:deal_id>/send/", desk_views.signature_send, name="send"),
    path("deals/<int:deal_id>/paper/", desk_views.paper_upload, name="paper-upload"),
    path("<int:pk>/void/", desk_views.signature_void, name="void"),
    path("<int:pk>/paper/confirm/", desk_views.paper_confirm, name="paper-confirm"),
    path("<int:pk>/paper/send-back/", desk_views.paper_send_back, name="paper-send-back"),
    path("<int:pk>/<slug:kind>.pdf", desk_views.executed_download, name="file"),
    path("signers/<int:pk>/remind/", desk_views.signer_remind, name="remind"),
    path("signers/<int:pk>/link/", desk_views.signer_link, name="link"),
]

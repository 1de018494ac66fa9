from django.urls import path

from contracts.esign import views
from contracts.esign.docusign.webhook import docusign_webhook

app_name = "esign"

urlpatterns = [
    path("sign/<str:token>/", views.sign, name="sign"),
    path("sign/<str:token>/decline/", views.decline, name="decline"),
    path("sign/<str:token>/page-<int:number>.png", views.page_image, name="page"),
    path("sign/<str:token>/document.pdf", views.document, name="document"),
    path("copy/<str:token>/", views.signed_copy, name="copy"),
    path("docusign/webhook/", docusign_webhook, name="docusign-webhook"),
]

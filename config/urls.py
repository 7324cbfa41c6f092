from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from outreach.receivers import email_webhook, meta_webhook, tiktok_webhook, x_webhook
from outreach.views import unsubscribe
from web.views.proof import campaign_decisions_csv, permission_proof_json, permission_proof_page

admin.site.site_header = "Outreach CRM"
admin.site.site_title = "Outreach CRM admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The admin signs in through the pages' sign-in: one throttled, two-factor-aware way in.
    path("admin/login/", RedirectView.as_view(pattern_name="web:login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL, so the docs run under the CSP (no inline script).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("permission-requests/<int:pk>/proof.json", permission_proof_json, name="permission-proof-json"),
    path("permission-requests/<int:pk>/proof/", permission_proof_page, name="permission-proof"),
    path("campaigns/<int:pk>/decisions.csv", campaign_decisions_csv, name="campaign-decisions-csv"),
    path("webhooks/meta/", meta_webhook, name="webhook-meta"),
    path("webhooks/x/", x_webhook, name="webhook-x"),
    path("webhooks/tiktok/", tiktok_webhook, name="webhook-tiktok"),
    path("webhooks/email/", email_webhook, name="webhook-email"),
    path("", include("web.urls")),  # the pages; last, so every route above wins
]

handler404 = "crm.api.errors.not_found"
handler500 = "crm.api.errors.server_error"

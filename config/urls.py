from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from config.health import healthz
from outreach.views import unsubscribe

admin.site.site_header = "Outreach CRM"
admin.site.site_title = "Outreach CRM admin"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]

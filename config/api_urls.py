"""The REST API's one router: every app's viewsets under /api/v1/, so the root lists them all and
`crm` need not know the apps built on it."""

from rest_framework.routers import DefaultRouter

from crm.api import views as crm_views

router = DefaultRouter()
router.register("creators", crm_views.CreatorViewSet, basename="creator")
router.register("social-accounts", crm_views.SocialAccountViewSet, basename="social-account")
router.register("tags", crm_views.TagViewSet, basename="tag")
router.register("campaigns", crm_views.CampaignViewSet, basename="campaign")
router.register("content", crm_views.ContentViewSet, basename="content")
router.register("permission-requests", crm_views.PermissionRequestViewSet, basename="permission-request")
router.register("consent-events", crm_views.ConsentEventViewSet, basename="consent-event")

urlpatterns = router.urls

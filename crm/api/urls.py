from rest_framework.routers import DefaultRouter

from crm.api import views

router = DefaultRouter()
router.register("creators", views.CreatorViewSet, basename="creator")
router.register("social-accounts", views.SocialAccountViewSet, basename="social-account")
router.register("tags", views.TagViewSet, basename="tag")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("content", views.ContentViewSet, basename="content")
router.register("permission-requests", views.PermissionRequestViewSet, basename="permission-request")
router.register("consent-events", views.ConsentEventViewSet, basename="consent-event")

urlpatterns = router.urls

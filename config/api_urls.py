"""The REST API's one router: every app's viewsets under /api/v1/, so the root lists them all and
`crm` need not know the apps built on it. Where outreach extends a CRM resource (launching a
campaign, sending a permission request, erasing a creator everywhere), its viewset is the one used."""

from rest_framework.routers import DefaultRouter

from crm.api import views as crm_views
from integrations.api import views as integrations_views
from outreach.api import comments as comment_views
from outreach.api import views as outreach_views

router = DefaultRouter()
router.register("creators", outreach_views.CreatorViewSet, basename="creator")
router.register("social-accounts", crm_views.SocialAccountViewSet, basename="social-account")
router.register("tags", crm_views.TagViewSet, basename="tag")
router.register("import-mappings", crm_views.ColumnMappingViewSet, basename="import-mapping")
router.register("campaigns", outreach_views.CampaignViewSet, basename="campaign")
router.register("content", crm_views.ContentViewSet, basename="content")
router.register("permission-requests", outreach_views.PermissionRequestViewSet, basename="permission-request")
router.register("consent-events", outreach_views.ConsentEventViewSet, basename="consent-event")
router.register("templates", outreach_views.TemplateViewSet, basename="template")
router.register("sequences", outreach_views.SequenceViewSet, basename="sequence")
router.register("sender-accounts", outreach_views.SenderAccountViewSet, basename="sender-account")
router.register("outreach-messages", outreach_views.OutreachMessageViewSet, basename="outreach-message")
router.register("follow-up-tasks", outreach_views.FollowUpTaskViewSet, basename="follow-up-task")
router.register("conversations", outreach_views.ConversationViewSet, basename="conversation")
router.register("webhook-subscriptions", integrations_views.WebhookSubscriptionViewSet, basename="webhook-subscription")

router.register("brand-posts", comment_views.BrandPostViewSet, basename="brand-post")
router.register("comments", comment_views.CommentViewSet, basename="comment")
router.register("discovered-media", comment_views.DiscoveredMediaViewSet, basename="discovered-media")
router.register("comment-rights-requests", comment_views.CommentRightsRequestViewSet, basename="comment-rights-request")
router.register("keyword-rules", comment_views.KeywordRuleViewSet, basename="keyword-rule")
router.register("hashtag-searches", comment_views.HashtagSearchViewSet, basename="hashtag-search")

urlpatterns = router.urls

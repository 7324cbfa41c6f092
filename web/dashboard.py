"""The dashboard's numbers: a fixed number of grouped queries, whatever the number of campaigns."""

from collections import defaultdict

from django.db.models import Case, Count, Q, When

from crm import access, services
from crm.access import visible_campaigns
from crm.models import Campaign, CampaignMember, PermissionRequest
from outreach.models import ConversationMessage, OutreachMessage, SenderAccount
from outreach.services.inbox import open_follow_ups
from web.charts import bar_chart

Stage = CampaignMember.Stage
PRStatus = PermissionRequest.Status
MsgStatus = OutreachMessage.Status

# A member who reached a stage passed the ones before it; declining is an answer, so a reply.
CONTACTED = set(Stage.values) - {Stage.PROSPECT}
REPLIED = {Stage.REPLIED, Stage.NEGOTIATING, Stage.CONFIRMED, Stage.CONTENT_LIVE, Stage.DECLINED}
CONFIRMED = {Stage.CONFIRMED, Stage.CONTENT_LIVE}
ASKED = {PRStatus.REQUESTED, PRStatus.GRANTED, PRStatus.DECLINED, PRStatus.EXPIRED, PRStatus.REVOKED}
ATTENTION = [MsgStatus.MANUAL, MsgStatus.NEEDS_REVIEW, MsgStatus.FAILED]
CAMPAIGNS_SHOWN = 12
LIST_SIZE = 5


def campaign_cards(user) -> list[dict]:
    """The running campaigns this person sees, each with its two funnels and its waiting messages."""
    campaigns = list(
        visible_campaigns(user)
        .exclude(status=Campaign.Status.COMPLETED)
        .annotate(running=Case(When(status=Campaign.Status.ACTIVE, then=0), default=1))
        .order_by("running", "-created_at", "-id")[:CAMPAIGNS_SHOWN]  # active ones first
    )
    ids = [campaign.pk for campaign in campaigns]
    stages = defaultdict(dict)
    for row in (
        CampaignMember.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "stage")
        .annotate(n=Count("id"))
        .order_by()
    ):
        stages[row["campaign_id"]][row["stage"]] = row["n"]
    requests = defaultdict(dict)
    for row in (
        PermissionRequest.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        requests[row["campaign_id"]][row["status"]] = row["n"]
    waiting = defaultdict(dict)
    for row in (
        OutreachMessage.objects.filter(campaign_id__in=ids, status__in=ATTENTION)
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        waiting[row["campaign_id"]][row["status"]] = row["n"]
    cards = []
    for campaign in campaigns:
        by_stage, by_status = stages[campaign.pk], requests[campaign.pk]

        def total(counts, keys):
            return sum(counts.get(key, 0) for key in keys)

        cards.append(
            {
                "campaign": campaign,
                "members": bar_chart(
                    "Members",
                    [
                        ("Members", sum(by_stage.values()), "bar-muted"),
                        ("Contacted", total(by_stage, CONTACTED), "bar-members"),
                        ("Replied", total(by_stage, REPLIED), "bar-members"),
                        ("Confirmed", total(by_stage, CONFIRMED), "bar-members"),
                    ],
                ),
                "requests": bar_chart(
                    "Permission requests",
                    [
                        ("Requested", total(by_status, ASKED), "bar-muted"),
                        ("Granted", by_status.get(PRStatus.GRANTED, 0), "bar-requests"),
                        ("Declined", by_status.get(PRStatus.DECLINED, 0), "bar-bad"),
                        ("Expired", by_status.get(PRStatus.EXPIRED, 0), "bar-bad"),
                    ],
                ),
                "manual": waiting[campaign.pk].get(MsgStatus.MANUAL, 0),
                "needs_review": waiting[campaign.pk].get(MsgStatus.NEEDS_REVIEW, 0),
                "failed": waiting[campaign.pk].get(MsgStatus.FAILED, 0),
            }
        )
    return cards


def attention(user) -> dict:
    """Across campaigns: the outbox's waiting work, replies a person must read, rights ending, paused senders."""
    messages = access.visible(OutreachMessage.objects.all(), user)
    counts = dict(messages.filter(status__in=ATTENTION).values_list("status").annotate(n=Count("id")).order_by())
    failures = list(
        messages.filter(status=MsgStatus.FAILED)
        .select_related("creator", "campaign", "sender_account")
        .order_by("-updated_at", "-id")[:LIST_SIZE]
    )
    review = ConversationMessage.objects.filter(
        direction=ConversationMessage.Direction.IN, classification=ConversationMessage.Classification.NEEDS_REVIEW
    )
    expiring = access.visible(services.rights_expiring(within_days=14), user)
    return {
        "manual_count": counts.get(MsgStatus.MANUAL, 0),
        "failed_count": counts.get(MsgStatus.FAILED, 0),
        "message_review_count": counts.get(MsgStatus.NEEDS_REVIEW, 0),
        "failures": failures,
        "review_count": review.count(),
        "review": list(review.select_related("conversation__creator").order_by("-at", "-id")[:LIST_SIZE]),
        "expiring": list(expiring[:LIST_SIZE]),
        "follow_ups": list(open_follow_ups(user)[:LIST_SIZE]),
        "paused_senders": list(
            SenderAccount.objects.filter(Q(paused=True) | Q(breaker_state=SenderAccount.Breaker.OPEN)).order_by("name")
        ),
    }

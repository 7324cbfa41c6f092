"""A campaign's report: the members' funnel by stage, the reply rate by template, platform and
sender, the median time to a first reply, and the rights asked for and given. A fixed number of
grouped queries whatever the campaign's size; the page and its CSV read the same numbers."""

import statistics
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery

from crm.models import CampaignMember, PermissionRequest
from outreach.models import ConversationMessage, OutreachMessage
from web.charts import bar_chart

Stage = CampaignMember.Stage
PRStatus = PermissionRequest.Status


@dataclass
class Rate:
    """Replies to the first messages sent, for one template, platform or sender."""

    label: str
    sent: int = 0
    replied: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.replied / self.sent) if self.sent else 0


@dataclass
class Report:
    stages: list[tuple[str, int]]
    rights: list[tuple[str, int]]
    by: dict[str, list[Rate]] = field(default_factory=dict)
    sent: int = 0
    replied: int = 0
    median_hours: float | None = None

    @property
    def reply_percent(self) -> int:
        return round(100 * self.replied / self.sent) if self.sent else 0

    @property
    def charts(self) -> dict:
        return {
            "stages": bar_chart("Members by stage", [(label, n, "bar") for label, n in self.stages]),
            "rights": bar_chart("Permission requests by status", [(label, n, "bar") for label, n in self.rights]),
            "templates": bar_chart(
                "Reply rate by template (%)", [(rate.label[:14], rate.percent, "bar") for rate in self.by["template"]]
            ),
        }


def campaign_report(campaign) -> Report:
    """The report's numbers; a reply is the creator's first message in after our first message went out."""
    stage_counts = dict(campaign.members.values_list("stage").annotate(n=Count("id")).order_by())
    rights_counts = dict(
        PermissionRequest.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    )
    first_reply = (
        ConversationMessage.objects.filter(
            conversation__creator_id=OuterRef("creator_id"), direction="in", at__gt=OuterRef("sent_at")
        )
        .order_by("at")
        .values("at")[:1]
    )
    sent = (
        OutreachMessage.objects.filter(
            campaign=campaign, step=0, permission_request__isnull=True, status=OutreachMessage.Status.SENT
        )
        .annotate(first_reply_at=Subquery(first_reply))
        .values_list("template__name", "platform", "sender_account__name", "sent_at", "first_reply_at")
    )
    report = Report(
        stages=[(label, stage_counts.get(value, 0)) for value, label in Stage.choices],
        rights=[(label, rights_counts.get(value, 0)) for value, label in PRStatus.choices if value != PRStatus.DRAFT],
        by={"template": [], "platform": [], "sender": []},
    )
    rates: dict[str, dict[str, Rate]] = {"template": {}, "platform": {}, "sender": {}}
    waits = []
    for template, platform, sender, sent_at, reply_at in sent.iterator():
        report.sent += 1
        replied = reply_at is not None
        report.replied += replied
        if replied:
            waits.append((reply_at - sent_at).total_seconds() / 3600)
        for key, label in (("template", template or "(no template)"), ("platform", platform), ("sender", sender)):
            rate = rates[key].setdefault(label, Rate(label))
            rate.sent += 1
            rate.replied += replied
    for key, by_label in rates.items():
        report.by[key] = sorted(by_label.values(), key=lambda rate: (-rate.sent, rate.label))
    report.median_hours = round(statistics.median(waits), 1) if waits else None
    return report


def report_rows(report: Report) -> list[list]:
    """The report as CSV rows: section, label, then the numbers."""
    rows = [["section", "label", "count", "sent", "replied", "reply_rate_percent"]]
    rows += [["stage", label, n, "", "", ""] for label, n in report.stages]
    rows += [["rights", label, n, "", "", ""] for label, n in report.rights]
    for key, rates in report.by.items():
        rows += [[f"reply_rate_by_{key}", r.label, "", r.sent, r.replied, r.percent] for r in rates]
    rows.append(["first_reply", "median hours", report.median_hours if report.median_hours is not None else "", "",
                 "", ""])  # fmt: skip
    return rows

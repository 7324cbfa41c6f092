"""Message templates' lifecycle beyond editing: archive one that is done with (it leaves the pickers
and new launches and sequences refuse it, while the history that used it keeps showing it), bring it
back, or delete one that nothing ever used."""

from django.db import transaction
from django.utils import timezone

from crm.errors import DomainError
from outreach.models import KeywordRule, MessageTemplate, OutreachMessage, SenderAccount, SequenceStep


def usable_templates():
    """The templates a picker offers and a new launch, sequence or request may use: not archived."""
    return MessageTemplate.objects.filter(archived_at__isnull=True)


def ensure_usable(template: MessageTemplate | None, *, field: str = "template") -> None:
    """Refuse an archived template for new work, by field and with the way out."""
    if template is not None and template.archived_at is not None:
        raise DomainError(
            {
                field: [
                    f"The template “{template.name}” is archived; unarchive it on the templates page or choose another."
                ]
            }
        )


def template_uses(template: MessageTemplate) -> list[str]:
    """What used or uses this template, in words (at most a few of each kind); empty when nothing did."""
    steps = list(SequenceStep.objects.filter(template=template).values_list("sequence__name", flat=True)[:5])
    senders = list(SenderAccount.objects.filter(auto_reply_template=template).values_list("name", flat=True)[:5])
    rules = list(KeywordRule.objects.filter(template=template).values_list("keyword", flat=True)[:5])
    messages = OutreachMessage.objects.filter(template=template).count()
    uses = [f"sequence “{name}”" for name in steps]
    uses += [f"sender “{name}” (auto-reply)" for name in senders]
    uses += [f"keyword rule “{keyword}”" for keyword in rules]
    if messages:
        uses.append(f"{messages} message{'s' if messages != 1 else ''} written with it")
    return uses


def delete_template(template: MessageTemplate, *, actor) -> None:
    """Delete a template only when nothing used it (no message was written with it, no sequence step,
    sender auto-reply or keyword rule names it); otherwise the error offers archiving, which keeps the
    history readable. The check and the delete run under a lock on the template, so a launch that
    starts with it at the same moment either sees it or is refused by the protected foreign keys."""
    with transaction.atomic():
        locked = MessageTemplate.objects.select_for_update().filter(pk=template.pk).first()
        if locked is None:
            return
        uses = template_uses(locked)
        if uses:
            raise DomainError(
                {"template": [f"“{locked.name}” was used by {', '.join(uses)}: archive it instead of deleting it."]}
            )
        locked.delete()


def archive_template(template: MessageTemplate, *, actor) -> MessageTemplate:
    """Hide a template from the pickers and refuse it for new launches and sequences (idempotent)."""
    MessageTemplate.objects.filter(pk=template.pk, archived_at__isnull=True).update(
        archived_at=timezone.now(), updated_at=timezone.now()
    )
    template.refresh_from_db()
    return template


def unarchive_template(template: MessageTemplate, *, actor) -> MessageTemplate:
    """Offer an archived template again (idempotent)."""
    MessageTemplate.objects.filter(pk=template.pk, archived_at__isnull=False).update(
        archived_at=None, updated_at=timezone.now()
    )
    template.refresh_from_db()
    return template

"""Message templates' lifecycle beyond editing: deleting one nothing depends on."""

from django.db import transaction

from crm.errors import DomainError
from outreach.models import MessageTemplate, SenderAccount, SequenceStep


def delete_template(template: MessageTemplate, *, actor) -> None:
    """Delete a template no sequence step and no sender's auto-reply uses; messages already written
    with it keep their rendered text (they point at no template any more)."""
    steps = list(SequenceStep.objects.filter(template=template).values_list("sequence__name", flat=True)[:5])
    senders = list(SenderAccount.objects.filter(auto_reply_template=template).values_list("name", flat=True)[:5])
    if steps or senders:
        users = [f"sequence “{name}”" for name in steps] + [f"sender “{name}” (auto-reply)" for name in senders]
        raise DomainError({"template": [f"Still used by {', '.join(users)}: change those first."]})
    with transaction.atomic():
        template.delete()

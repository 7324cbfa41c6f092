"""Views shared by every area: the placeholder for pages still to come."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from web.access import page

# Pages of the issue not built yet: the nav links here rather than to nothing.
COMING = {
    "manual-queue": ("Manual queue", "admin:outreach_outreachmessage_changelist"),
    "inbox": ("Inbox", "admin:outreach_conversation_changelist"),
    "permission-requests": ("Permission requests", "admin:crm_permissionrequest_changelist"),
    "templates": ("Templates and sequences", "admin:outreach_messagetemplate_changelist"),
    "sender-accounts": ("Sender accounts and API tokens", "admin:outreach_senderaccount_changelist"),
}


@page
def coming(request, slug: str):
    """A page of the issue that is not built yet: say so and point to the admin, never a dead link."""
    if slug not in COMING:
        raise Http404("No such page.")
    heading, admin_name = COMING[slug]
    return render(request, "web/coming.html", {"section": slug, "heading": heading, "admin_url": reverse(admin_name)})


def favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon link (the proof page): answer with ours,
    so no console shows a 404. Resolved per request: the static manifest may not exist at import."""
    return redirect(static("web/favicon.svg"))

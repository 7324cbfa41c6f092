"""Posts the brand may want to reuse: registered once by their link, however it was copied."""

from crm import access, handles
from crm.errors import DomainError
from crm.models import Content, Creator


def add_content(creator: Creator, *, actor, url: str, campaign=None, **fields) -> Content:
    """Register a creator's post; its link is normalised, so a post is known once however it was copied."""
    try:
        normalised = handles.normalize_content_url(url)
    except ValueError as error:
        raise DomainError({"url": [f"The link {error}."]}) from None
    platform = handles.platform_of_url(normalised)
    if platform is None:
        raise DomainError({"url": ["The link is not on a platform we know (Instagram, TikTok, X, YouTube, ...)."]})
    if len(normalised) > Content._meta.get_field("url").max_length:
        raise DomainError({"url": [f"The link is longer than {Content._meta.get_field('url').max_length} characters."]})
    if campaign is not None and not access.can_work_on(campaign, actor):
        raise DomainError({"campaign": ["No campaign you work on has this id."]})
    known = Content.objects.filter(url=normalised).values_list("pk", flat=True).first()
    if known:
        raise DomainError({"url": [f"This post is already registered as content {known}."]})
    account = creator.accounts.filter(platform=platform).first()
    return Content.objects.create(
        creator=creator, social_account=account, campaign=campaign, platform=platform, url=normalised, **fields
    )

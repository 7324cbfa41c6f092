"""Forms of the content pages: adding a post by its link, asking for the rights to posts, asking
whether a post may be used. They parse; crm.services and outreach.services decide."""

from django import forms

from crm.models import Campaign, Content, PermissionRequest, UsageChannel
from crm.services.rights import MAX_DURATION_DAYS
from outreach.models import MessageTemplate, SenderAccount

RIGHTS_FILTERS = [("", "Any"), ("none", "Not asked"), *PermissionRequest.Status.choices]
EXPIRY_FILTERS = [("", "Any"), ("30", "Ending within 30 days"), ("90", "Ending within 90 days"), ("ended", "Ended")]


class AddContentForm(forms.Form):
    url = forms.CharField(
        label="Post link",
        max_length=1000,
        help_text="Paste the link as you copied it (app share links and tracking parameters are fine).",
    )
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, label="Campaign")
    caption = forms.CharField(label="Caption", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    media_url = forms.URLField(
        label="Thumbnail link", required=False, max_length=1000, assume_scheme="https", help_text="Optional."
    )

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, prefix="post", **kwargs)
        self.fields["campaign"].queryset = campaigns if campaigns is not None else Campaign.objects.none()
        self.fields["campaign"].label_from_instance = lambda campaign: campaign.name


class RightsForm(forms.Form):
    """Ask for the rights to one or several posts at once; the preview is a dry run of the same service."""

    content = forms.ModelMultipleChoiceField(
        queryset=Content.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Posts",
        error_messages={"required": "Tick at least one post."},
    )
    channels = forms.MultipleChoiceField(
        choices=UsageChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Channels",
        initial=[UsageChannel.ORGANIC_SOCIAL],
        error_messages={"required": "Tick at least one channel."},
    )
    territory = forms.CharField(
        label="Territory",
        max_length=200,
        initial="worldwide",
        help_text="Country codes or names (GB, IE, US or Germany, Austria), EU, EEA or worldwide.",
    )
    duration_days = forms.IntegerField(
        label="Duration (days)",
        required=False,
        min_value=1,
        max_value=MAX_DURATION_DAYS,
        initial=365,
        help_text="Empty: no end date.",
    )
    exclusive = forms.BooleanField(label="Exclusive", required=False)
    terms_url = forms.URLField(label="Terms URL", max_length=500, assume_scheme="https")
    terms_text = forms.CharField(label="Terms the creator agrees to", widget=forms.Textarea(attrs={"rows": 4}))
    approval_hashtag = forms.CharField(
        label="Approval hashtag", max_length=64, required=False, help_text="Empty: the campaign's."
    )
    template = forms.ModelChoiceField(queryset=MessageTemplate.objects.all(), label="Template")
    sender_account = forms.ModelChoiceField(queryset=SenderAccount.objects.all(), label="Sender")

    def __init__(self, *args, posts=None, senders=None, **kwargs):
        super().__init__(*args, prefix="rights", **kwargs)
        self.fields["content"].queryset = posts if posts is not None else Content.objects.none()
        self.fields["content"].label_from_instance = lambda post: f"{post.get_platform_display()} · {post.url}"
        self.fields["template"].queryset = MessageTemplate.objects.filter(archived_at__isnull=True).order_by("name")
        if senders is not None:
            self.fields["sender_account"].queryset = senders
        self.fields["sender_account"].label_from_instance = lambda sender: (
            f"{sender.name} ({sender.get_platform_display()})"
        )


class MayUseForm(forms.Form):
    url = forms.CharField(label="Post link", max_length=1000, help_text="As copied, from any app.")
    channel = forms.ChoiceField(choices=UsageChannel.choices, label="Used for")
    territory = forms.CharField(label="In", max_length=100, help_text="A country: DE or Germany.")
    date = forms.DateField(
        label="On", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty: today."
    )


class ContentFilterForm(forms.Form):
    rights = forms.ChoiceField(choices=RIGHTS_FILTERS, required=False, label="Rights")
    creator = forms.CharField(required=False, max_length=200, label="Creator")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, label="Campaign")
    expiry = forms.ChoiceField(choices=EXPIRY_FILTERS, required=False, label="Rights end")

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns if campaigns is not None else Campaign.objects.none()
        self.fields["campaign"].label_from_instance = lambda campaign: campaign.name

"""What the pages keep of their own: creator imports and "select all matching" bulk actions run in the
queue, with their progress and results; a person's page settings."""

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One CSV upload: its columns are matched and its first rows previewed, then the queue imports
    it in batches while the page polls its progress.

    Rejected rows are kept here (line, column, value, reason) so the person who uploaded the file sees
    and downloads exactly what was left out; the file itself is deleted when the import ends.
    """

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for its columns to be matched"
        QUEUED = "queued", "Waiting for the queue"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Refused"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, help_text="Where the upload waits for the worker.")
    encoding = models.CharField(max_length=32, default="utf-8")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    headers = models.JSONField(default=list, blank=True, help_text="The file's first line, as written.")
    mapping = models.JSONField(
        default=list, blank=True, help_text="Our field for each of the file's columns; an empty one is ignored."
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0, help_text="Rows naming the same creator as an earlier row.")
    rejections = models.JSONField(
        default=list,
        blank=True,
        help_text="[line, column, value, reason, the row's cells as in the file], in file order.",
    )
    duplicates = models.JSONField(default=list, blank=True, help_text="[line, first line, name] of merged rows.")
    error = models.TextField(blank=True, help_text="Why the whole file was refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, round(100 * self.processed_rows / self.total_rows)) if self.total_rows else 0

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class BulkJob(models.Model):
    """One "select all matching" action on the creators list too large to run inside the request
    (more than settings.BULK_INLINE_LIMIT creators): the queue runs it in batches (web/bulk.py)
    while the page polls its progress.

    It keeps the list's filter as its query string, never a list of ids: the filter is run again
    when the job runs, with the actor's visibility, and the actor's right to the campaign is checked
    again then. Owned by the person who asked (crm/access.py OWNED); a DomainError during the run is
    kept here in words for that person to read.
    """

    class Action(models.TextChoices):
        TAG = "tag", "Add a tag"
        CAMPAIGN = "campaign", "Add to a campaign"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the queue"
        RUNNING = "running", "Working"
        DONE = "done", "Done"
        FAILED = "failed", "Stopped"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    tag_name = models.CharField(max_length=64, blank=True, help_text="The tag to add (action tag).")
    campaign = models.ForeignKey(
        "crm.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The campaign to add to (action campaign); a deleted one stops the job.",
    )
    campaign_name = models.CharField(max_length=200, blank=True, help_text="As it was named when asked.")
    filter_query = models.TextField(blank=True, help_text="The list's filter as a query string, run again at run time.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    matched = models.PositiveIntegerField(default=0, help_text="Creators the filter matched when the job ran.")
    done = models.PositiveIntegerField(default=0, help_text="Of those, how many the batches have gone through.")
    added = models.PositiveIntegerField(default=0, help_text="Tags or members added (the rest had them already).")
    error = models.TextField(blank=True, help_text="Why the job stopped, in words for the person who asked.")
    run_token = models.UUIDField(null=True, blank=True, editable=False, help_text="The claim of the run doing it.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The running job's last batch.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()}: {self.target} ({self.get_status_display()})"

    @property
    def target(self) -> str:
        return f"“{self.tag_name}”" if self.action == self.Action.TAG else self.campaign_name

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, round(100 * self.done / self.matched)) if self.matched else 0

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class Preferences(models.Model):
    """One person's settings for the pages: the time zone every date is shown in. Kept apart from
    the user model (Django's own) so the pages can add settings without touching authentication."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="page_preferences"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="An IANA zone name (Europe/Berlin); empty: the browser's zone, else settings.TIME_ZONE.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self):
        return f"{self.user}: {self.time_zone or 'automatic time zone'}"

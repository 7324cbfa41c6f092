"""A person's own settings page: the time zone every date on the pages is shown in. Anyone signed in
changes their own (viewers too: it changes nothing of the team's)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from web import preferences
from web.forms import show_errors


class SettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Every date and time on the pages is shown in it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        automatic = f"Automatic: your browser's zone, else {settings.TIME_ZONE}"
        self.fields["time_zone"].choices = [("", automatic), *preferences.zone_choices()]


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    """Choose your time zone; the next page shows every date in it."""
    form = SettingsForm(request.POST or None, initial={"time_zone": preferences.time_zone_of(request.user)})
    if request.method == "POST" and form.is_valid():
        try:
            preferences.set_time_zone(request.user, form.cleaned_data["time_zone"], session=request.session)
        except ValidationError as error:
            show_errors(form, error)
        else:
            chosen = form.cleaned_data["time_zone"] or "automatic"
            messages.success(request, f"Saved: dates are shown in {chosen.replace('_', ' ')}.")
            return redirect("web:account_settings")
    context = {"form": form, "now": timezone.now(), "zone": timezone.get_current_timezone_name()}
    return render(request, "web/auth/settings.html", context)

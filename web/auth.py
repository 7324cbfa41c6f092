"""Signing in, as safe as the API: throttled per account and client (django-axes), a second factor for
whoever set one up (django-otp TOTP), and password-reset mails limited per address and per client.

Why here and not in a service: these are rules about HTTP sign-in (clients, sessions, pages), not
about the domain; the API authenticates by token and never reaches them.
"""

import base64
from urllib.parse import urlsplit

from axes.backends import AxesStandaloneBackend
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import signals as auth_signals
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

LOCKED_OUT = (
    "Too many failed sign-ins for this account from your network. "
    "Try again in {minutes} minutes, or reset your password."
)


def client_ip(request) -> str | None:
    """The client's address for throttling: REMOTE_ADDR, or the last X-Forwarded-For hop when a
    trusted proxy sets it (TRUST_X_FORWARDED_FOR); never a header a client could choose."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR") or None  # none for a request made in code (force_login)


class SignInBackend(AxesStandaloneBackend):
    """Axes' lockout check for sign-ins that come with a request (the login page, the admin);
    `authenticate()` called from code with no request (tests' client.login, a shell) is not an
    attack surface and is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def confirmed_device(user) -> TOTPDevice | None:
    return next((device for device in devices_for_user(user, confirmed=True) if isinstance(device, TOTPDevice)), None)


class SignInForm(AuthenticationForm):
    """Username and password; and the current code of the authenticator app when the account has one."""

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Only if you set up two-factor sign-in.",
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "otp_required": "Enter the 6-digit code from your authenticator app.",
        "otp_wrong": "That code is not right (or no longer valid). Enter the current code.",
    }

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        self.device = confirmed_device(user) if user else None
        if self.device is None:
            return cleaned
        token = (cleaned.get("otp_token") or "").replace(" ", "")
        if not token:
            raise forms.ValidationError(self.error_messages["otp_required"], code="otp_required")
        if not self.device.verify_token(token):  # the device throttles repeated failures itself
            auth_signals.user_login_failed.send(
                sender=__name__, credentials={"username": user.get_username()}, request=self.request
            )  # counts towards the lockout like a wrong password
            raise forms.ValidationError(self.error_messages["otp_wrong"], code="otp_wrong")
        return cleaned


class SignInView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.device is not None:
            otp_login(self.request, form.device)  # the session is verified (request.user.is_verified())
        return response


def lockout(request, credentials, *args, **kwargs):
    """What a locked-out sign-in sees: the login page, with the reason, status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = SignInForm(request, data=None)
    context = {"form": form, "locked_out": LOCKED_OUT.format(minutes=minutes), "next": request.GET.get("next", "")}
    return render(request, "web/auth/login.html", context, status=429)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Password reset, with at most PASSWORD_RESET_PER_ADDRESS mails an hour to one address and
    PASSWORD_RESET_PER_CLIENT requests an hour from one client. Over the limit nothing is sent but
    the answer is the same "check your inbox" page, so it reveals neither the limit nor the account."""

    template_name = "web/auth/password_reset_form.html"
    email_template_name = "web/auth/password_reset_email.txt"
    subject_template_name = "web/auth/password_reset_subject.txt"

    def get_success_url(self):
        return reverse("web:password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        # The link in the mail points at PUBLIC_URL, never at the Host header a client sent
        # (password-reset poisoning: a link to the attacker's host that leaks the token).
        public = urlsplit(settings.PUBLIC_URL)
        self.extra_email_context = {"domain": public.netloc, "protocol": public.scheme or "https"}
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        address = form.cleaned_data["email"].strip().lower()
        over = [
            _count(f"pwreset:address:{address}") > settings.PASSWORD_RESET_PER_ADDRESS,
            _count(f"pwreset:client:{client_ip(self.request) or 'unknown'}") > settings.PASSWORD_RESET_PER_CLIENT,
        ]
        if any(over):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def _count(key: str) -> int:
    """Increment a one-hour counter in the cache (shared through Redis when there is one)."""
    if cache.add(key, 1, timeout=3600):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        return 1


class ConfirmDeviceForm(forms.Form):
    otp_token = forms.CharField(label="Code from the app", max_length=8)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Set up two-factor sign-in: a new TOTP key (shown as text and as an otpauth:// link for the
    app), confirmed by one current code; or turn it off with a current code."""
    device = confirmed_device(request.user)
    if device is not None:
        form = ConfirmDeviceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if device.verify_token(form.cleaned_data["otp_token"].replace(" ", "")):
                TOTPDevice.objects.filter(user=request.user).delete()
                messages.success(request, "Two-factor sign-in is off.")
                return redirect("web:two_factor")
            form.add_error("otp_token", "That code is not right. Enter the current code.")
        return render(request, "web/auth/two_factor.html", {"form": form, "device": device, "confirmed": True})
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = ConfirmDeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["otp_token"].replace(" ", "")):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            messages.success(request, "Two-factor sign-in is on: you will be asked for a code when you sign in.")
            return redirect("web:two_factor")
        form.add_error("otp_token", "That code is not right. Check the app's clock and enter the current code.")
    secret = _base32(pending.bin_key)
    context = {"form": form, "device": pending, "confirmed": False, "secret": secret, "config_url": pending.config_url}
    return render(request, "web/auth/two_factor.html", context)


def _base32(key: bytes) -> str:
    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))

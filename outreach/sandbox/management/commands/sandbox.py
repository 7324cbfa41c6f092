"""manage.py sandbox: loopback imitations of the platforms for the demo (never for production)."""

import atexit
import signal
import threading

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from outreach import demo, demo_comments
from outreach.demo import DEMO_SENDERS, SANDBOX_TOKEN
from outreach.sandbox import dovecot
from outreach.sandbox.meta_comments import FakeMetaComments
from outreach.sandbox.smtp import SmtpSink
from outreach.sandbox.tiktok_comments import FakeTikTokComments
from outreach.sandbox.x import FakeX


class Command(BaseCommand):
    help = (
        "Serve imitations of the Meta Graph (Instagram, Messenger, WhatsApp), X and TikTok send APIs and an "
        "SMTP sink on 127.0.0.1, so the demo can send without touching any real platform. With --setup-demo, "
        "the demo's sender accounts are pointed at them and some creators 'wrote first'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8700, help="First port: Meta, then X, TikTok, SMTP (+1 each).")
        parser.add_argument("--setup-demo", action="store_true", help="Wire the demo's sender accounts to the sandbox.")
        parser.add_argument("--seconds", type=float, help="Stop after this long (default: until interrupted).")
        parser.add_argument(
            "--imap-port", type=int, default=0, help="IMAP port of the demo mailbox, if Dovecot is installed (0: free)."
        )

    def handle(self, *args, port, setup_demo: bool, seconds=None, imap_port: int = 0, **options):
        if settings.PRODUCTION:
            raise CommandError("The sandbox imitates platforms for demos and tests; it does not run in production.")
        # With Debian's Dovecot installed, the demo's email sender gets a real mailbox: mail the sink
        # accepts for it lands there, readable over IMAP (login: its address, password: the sandbox token).
        mailbox = dovecot.Dovecot(port=imap_port) if dovecot.installed() else None
        meta, x, tiktok = FakeMetaComments(port=port), FakeX(port=port + 1), FakeTikTokComments(port=port + 2)
        smtp = SmtpSink(port=port + 3, mailbox=mailbox)
        try:
            for service in (meta, x, tiktok, smtp):
                service.start()
        except OSError as error:
            for service in (meta, x, tiktok, smtp):
                service.stop()
            raise CommandError(f"Cannot listen on ports {port}-{port + 3}: {error.strerror}. Try --port.") from None
        if mailbox is not None:
            try:
                mailbox.start()
            except dovecot.DovecotError as error:
                for service in (meta, x, tiktok, smtp):
                    service.stop()
                raise CommandError(f"Cannot start the demo mailbox: {error}") from None
            atexit.register(mailbox.stop)  # also when the demo set-up below fails (stop() runs once)
            for _, platform, _, account_id, _ in DEMO_SENDERS:
                if platform == "email":
                    mailbox.add_user(account_id, SANDBOX_TOKEN)
        urls = {"meta": meta.url, "x": x.url, "tiktok": tiktok.url, "smtp": smtp.url}
        for _, platform, _, account_id, _ in DEMO_SENDERS:
            if platform == "instagram":
                meta.add_instagram_account(account_id, SANDBOX_TOKEN)
            elif platform == "whatsapp":
                meta.add_whatsapp_number(account_id, SANDBOX_TOKEN)
            elif platform == "x":
                x.add_user(account_id, SANDBOX_TOKEN)
            elif platform == "tiktok":
                tiktok.add_business(account_id, SANDBOX_TOKEN)
                # A video of ours with comments: the TikTok poll (every 10 minutes) brings them in.
                tiktok.add_video(account_id, "7300000000000000001", caption="Acme serum: the 30-second routine")
                tiktok.user_comments("7300000000000000001", user_id="tt-user-1", username="glow.with.sam",
                                     text="Does it work on oily skin?")  # fmt: skip
                tiktok.user_comments("7300000000000000001", user_id="tt-user-2", username="lena.k",
                                     text="Where can I buy it in Berlin?")  # fmt: skip
        if setup_demo:
            senders = demo.setup_demo(urls)
            self.stdout.write(f"Demo sender accounts point at the sandbox: {', '.join(s.name for s in senders)}.")
            demo_comments.seed_comment_demo(senders[0])  # a post with comments to answer
            for sender in senders:
                if sender.platform == "email":
                    read_demo_mailbox(sender, mailbox)
        meta.set_username(DEMO_SENDERS[0][3], demo_comments.BRAND_USERNAME)
        meta.load(DEMO_SENDERS[0][3], demo_comments.sandbox_state())
        meta.webhook_url, meta.app_secret = f"{settings.PUBLIC_URL}/webhooks/meta/", settings.META_APP_SECRET
        opened = 0
        for platform, recipient, at in demo.windows_to_open():
            if platform == "instagram":
                meta.user_wrote(DEMO_SENDERS[0][3], recipient, at=at)
                opened += 1
        self.stdout.write(
            f"Sandbox: Meta {meta.url}, X {x.url}, TikTok {tiktok.url}, SMTP {smtp.url}; "
            f"{opened} creator(s) have written to the Instagram account."
        )
        if mailbox is not None:
            self.stdout.write(
                f"Demo mailbox: IMAP imap://{mailbox.host}:{mailbox.port} (users: {', '.join(mailbox.users)}; "
                f"password: the sandbox token)."
            )
        stop = threading.Event()
        if settings.META_APP_SECRET:
            # Speak like Meta to this CRM: echoes, delivery statuses and read receipts of what it sends.
            meta.deliver_to(f"{settings.PUBLIC_URL.rstrip('/')}/webhooks/meta/", settings.META_APP_SECRET)
            threading.Thread(target=_play_back, args=(meta, stop), name="sandbox-play-back", daemon=True).start()
            self.stdout.write("The sandbox posts echoes, statuses and read receipts to the CRM's Meta webhook.")
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait(seconds)
        except KeyboardInterrupt:
            pass
        finally:
            for service in (meta, x, tiktok, smtp):
                service.stop()
            if mailbox is not None:
                mailbox.stop()
            self.stdout.write(
                f"Sandbox stopped; it received {len(meta.sent())} DM(s) and {len(smtp.messages)} email(s)."
            )


def _play_back(meta: FakeMetaComments, stop: threading.Event) -> None:
    """Every two seconds, what the platform would post after the CRM's sends (while the CRM runs)."""
    while not stop.wait(2.0):
        try:
            meta.play_back()
        except requests.RequestException:
            continue  # the CRM is not up (yet): try again at the next tick


def read_demo_mailbox(sender, mailbox) -> None:
    """The demo email sender reads its replies from the sandbox's Dovecot over IMAP (the schedule
    "outreach: fetch mailboxes" does it every minute); without Dovecot it has no mailbox to read."""
    if mailbox is None:
        sender.imap_host = ""
    else:
        sender.imap_host, sender.imap_port, sender.imap_security = mailbox.host, mailbox.port, "none"
        sender.imap_username = sender.account_id
        sender.set_imap_password(SANDBOX_TOKEN)
    sender.save()

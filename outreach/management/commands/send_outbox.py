"""manage.py send_outbox: run the sending loop in this process (operations, tests, benchmarks)."""

from django.core.management.base import BaseCommand

from outreach.models import OutreachMessage, SenderAccount
from outreach.worker import reap_stale_leases, send_due


class Command(BaseCommand):
    help = (
        "Send due outbox messages now, in this process, with the same claims as the queue's workers "
        "(safe to run beside them). Without --sender, every account with due messages."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sender", type=int, action="append", help="Sender account id (repeatable).")
        parser.add_argument("--batch", type=int, help="Rows claimed at a time.")
        parser.add_argument("--budget", type=float, default=3600, help="Stop after this many seconds.")
        parser.add_argument("--reap", action="store_true", help="First move rows stuck past their lease to review.")

    def handle(self, *args, sender=None, batch=None, budget=3600, reap=False, **options):
        if reap:
            self.stdout.write(f"{reap_stale_leases()} stale message(s) moved to needs_review.")
        sender_ids = sender or sorted(
            set(OutreachMessage.objects.due().order_by().values_list("sender_account_id", flat=True).distinct())
        )
        for sender_id in sender_ids:
            if not SenderAccount.objects.filter(pk=sender_id).exists():
                self.stderr.write(f"No sender account {sender_id}.")
                continue
            report = send_due(sender_id, budget_seconds=budget, batch=batch)
            while report.more_due:  # a run stops within its lease; go on until nothing is due
                report.add(send_due(sender_id, budget_seconds=budget, batch=batch))
            outcomes = (
                ", ".join(f"{count} {status}" for status, count in sorted(report.outcomes.items())) or "nothing due"
            )
            self.stdout.write(f"sender {sender_id}: {report.claimed} claimed: {outcomes}")

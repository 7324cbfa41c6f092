"""manage.py run_queue: django-q2's qcluster, stopping within seconds on SIGTERM, with a lease reaper.

Why not plain `qcluster`: on SIGTERM its main process calls `Cluster.stop()`, which sets the stop
event and then blocks in `sentinel.join()`, while the sentinel puts a "STOP" pill on the task queue
and waits for every worker to *finish the task it is running* before it exits (django_q/cluster.py,
`Sentinel.stop`); a sending run may take OUTREACH_TASK_BUDGET_SECONDS (it was 200 s) plus its last
calls, and further SIGTERMs re-enter the same join. So the main process seemed to ignore SIGTERM.

Here the first SIGTERM/SIGINT also sends SIGUSR1 to the cluster's processes; in a worker it sets
`outreach.worker.STOP` (the handler is installed before the fork, so every process inherits it), so
a sending run lets its calls in flight finish, gives unstarted claims back to the queue and returns
at once. The cluster then stops normally, in seconds; should a part of it still hang (seen once
after a Redis restart), everything left is killed after STOP_SECONDS. A thread of the main process also settles
expired claims every OUTREACH_REAP_SECONDS and queues a sending run for every account with due
messages and no live claim (django-q2 schedules run at most once a minute, and a broker restart
loses the tasks it held).
"""

import contextlib
import faulthandler
import logging
import os
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django_q.cluster import Cluster

from outreach import worker

logger = logging.getLogger(__name__)
STOP_SECONDS = 20  # after the first SIGTERM, the most a stop may take before the rest is killed


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class QuickStopCluster(Cluster):
    """A Cluster whose first stop signal first asks the workers to wind their sending runs down."""

    def sig_handler(self, signum, frame):
        if not getattr(self, "_winding_down", False):
            self._winding_down = True
            logger.info("run_queue: signal %s, asking workers to stop sending", signum)
            signal_all(signal.SIGUSR1)
            # If a part of the cluster still hangs (a broker that went away mid-stop), end it hard:
            # the claims of a killed worker are settled by the reaper, never sent twice.
            timer = threading.Timer(STOP_SECONDS, signal_all, args=(signal.SIGKILL,))
            timer.daemon = True
            timer.start()
        super().sig_handler(signum, frame)

    def stop(self) -> bool:
        """django-q2's stop, except that the stop event is set from a thread of its own. A SIGTERM to the
        whole group (systemd's KillMode=control-group) kills the sentinel while it sleeps on that
        multiprocessing Event, and `Event.set()` then waits for ever for the dead sleeper to wake (seen:
        run_queue hung past its own kill timer). The sentinel's exit is what we wait for."""
        if not self.sentinel.is_alive():
            return False
        logger.info("Q Cluster %s stopping.", self.name)
        threading.Thread(target=self.stop_event.set, name="stop-event", daemon=True).start()
        self.sentinel.join()
        logger.info("Q Cluster %s has stopped.", self.name)
        self.start_event = None
        self.stop_event = None
        return True


def signal_all(signum: int) -> None:
    if signum == signal.SIGKILL:
        logger.warning("run_queue: the cluster did not stop within %s s; killing it", STOP_SECONDS)
        faulthandler.dump_traceback(all_threads=True)  # where this process waited, for the log
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def reap_forever(stop: threading.Event) -> None:
    """Every OUTREACH_REAP_SECONDS: settle the claims of dead workers, then queue a sending run for
    each account with due messages that nobody is working on (after a database or broker restart),
    so sending resumes within seconds by itself."""
    while not stop.wait(settings.OUTREACH_REAP_SECONDS):
        try:
            count = worker.reap_stale_leases()
            if count:
                logger.warning("%s message(s) left mid-send by a stopped worker moved to needs_review", count)
            resumed = worker.resume_idle_senders()
            if resumed:
                logger.info("sending resumed for account(s) %s: due messages and no live claim", resumed)
        except Exception:
            logger.exception("reaping stale leases or resuming sending failed; trying again later")
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run the queue (django-q2's cluster): stops within seconds on SIGTERM, reaps expired claims."

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 (as qcluster: refuse to start without it)
        signal.signal(signal.SIGUSR1, worker.request_stop)  # inherited by the forked cluster processes
        cluster = QuickStopCluster()
        cluster.start()
        stop = threading.Event()
        reaper = threading.Thread(target=reap_forever, args=(stop,), name="reaper", daemon=True)
        reaper.start()
        try:
            while cluster.sentinel.is_alive():
                cluster.sentinel.join(timeout=1)
        finally:
            stop.set()

"""A real queue worker for the tests that need one: `manage.py qcluster` or `manage.py run_queue` in a
process group of its own, tasks put on its broker by another process (as a web process does), and a
stop that leaves nothing running."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_manage


def start_queue(command: str, env: dict, log: Path) -> subprocess.Popen:
    """`manage.py <command>` in a new session (its own process group), its stderr in the file `log`:
    a pipe nobody reads would block the cluster's logging once full."""
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )


def enqueue(env: dict, task: str, *args, times: int = 1, timeout: float = 60) -> None:
    """Queue `task(*args)` `times` times from a fresh `manage.py shell` on the env's database and broker."""
    code = f"from django_q.tasks import async_task\nfor _ in range({times}): async_task({task!r}, *{args!r})"
    result = run_manage("shell", "-c", code, env=env, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]


def stop_queue(cluster: subprocess.Popen, *, group: bool = True, timeout: float = 20) -> None:
    """SIGTERM to the cluster's whole group (or its main process only, as systemd's KillMode=mixed
    does), then SIGKILL to the group for whatever is left after `timeout` seconds."""
    if cluster.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(cluster.pid, signal.SIGTERM)
            else:
                os.kill(cluster.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(timeout=timeout)
    kill_group(cluster)


def kill_group(cluster: subprocess.Popen) -> None:
    """SIGKILL to whatever of the cluster's group is still running, and reap its main process."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(cluster.pid, signal.SIGKILL)
    cluster.wait()

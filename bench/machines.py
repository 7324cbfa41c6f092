"""Simulated machines for the scale-out benchmark and test (bench/scale_out.py,
tests/outreach/test_scale_out.py): each "machine" is a process group with a loopback address of its
own (127.0.0.2, 127.0.0.3, ...).

    python -m bench.machines 127.0.0.2 [--web-port 8000] [--workers 2]

The group's leader (this module) forwards PostgreSQL and Redis through ports on the machine's
address, connecting onwards to Redis *from* that address (libpq and redis-py cannot choose their
source address; the shared PostgreSQL here trusts only 127.0.0.1, so that hop names the machine in
application_name instead), then starts the machine's web server (gunicorn bound to its address) and its queue
(`manage.py run_queue`), whose platform calls leave from it too (OUTREACH_SOURCE_ADDRESS). So
PostgreSQL, Redis and the platform see two separate clients, and SIGKILL to the group takes the
whole machine off the network at once: its processes and every connection it held. SIGTERM stops
the web server and the queue cleanly (the forwarders stay up until they have exited).
"""

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _forward(address: str, port: int, target: tuple[str, int], source: str) -> asyncio.Server:
    async def connected(reader, writer):
        sock = writer.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            up_reader, up_writer = await asyncio.open_connection(*target, local_addr=(source, 0))
        except OSError:
            writer.close()
            return
        up_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return await asyncio.start_server(connected, address, port, backlog=512)


def via(url: str, address: str, loop: asyncio.AbstractEventLoop, *, upstream_from: str = "") -> str:
    """`url` rewritten to a forwarder on `address` that connects to the original host from
    `upstream_from` (by default `address` itself)."""
    parts = urlsplit(url)
    target = (parts.hostname, parts.port or {"postgresql": 5432, "redis": 6379}[parts.scheme])
    port = free_port(address)
    server = _forward(address, port, target, upstream_from or address)
    asyncio.run_coroutine_threadsafe(server, loop).result(timeout=10)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{address}:{port}"))


def database_url(url: str, address: str, loop) -> str:
    """PostgreSQL through the machine's forwarder. The shared server here trusts 127.0.0.1 only
    (pg_hba), so the last hop leaves from 127.0.0.1 and the machine names itself instead: every
    connection carries application_name=machine-<address> (pg_stat_activity shows it)."""
    rewritten = urlsplit(via(url, address, loop, upstream_from="127.0.0.1"))
    query = "&".join(filter(None, [rewritten.query, f"application_name=machine-{address}"]))
    return urlunsplit(rewritten._replace(query=query))


@contextlib.contextmanager
def own_redis():
    """A redis-server of our own on a free port, without protected mode (which refuses any client
    but 127.0.0.1, and a machine's clients come from its own address); yields its URL."""
    port = free_port("127.0.0.1")
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "no"]
    server = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


class Machine:
    """One simulated machine, started as its own session (process group) from a test or benchmark."""

    def __init__(self, address: str, env: dict, *, web: bool = False, workers: int = 2, quiet: bool = True):
        self.address, self.env, self.workers, self.quiet = address, env, workers, quiet
        self.web_port = free_port(address) if web else 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.web_port}"

    def start(self) -> "Machine":
        command = [sys.executable, "-m", "bench.machines", self.address, "--workers", str(self.workers)]
        if self.web_port:
            command += ["--web-port", str(self.web_port)]
        output = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=output, stderr=output, start_new_session=True
        )
        return self

    def kill(self) -> None:
        """The whole machine at once: every process and every connection it held."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM to the leader (as systemd's KillMode=mixed); whatever is left after `timeout` is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="the machine's own loopback address, e.g. 127.0.0.2")
    parser.add_argument("--web-port", type=int, default=0, help="0: no web server")
    parser.add_argument("--workers", type=int, default=2, help="queue worker processes")
    args = parser.parse_args()

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="forwarders", daemon=True).start()
    env = {**os.environ, "Q_WORKERS": str(args.workers), "OUTREACH_SOURCE_ADDRESS": args.address}
    env["ALLOWED_HOSTS"] = ",".join([os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost"), args.address])
    env["DATABASE_URL"] = database_url(os.environ["DATABASE_URL"], args.address, loop)
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = via(os.environ["REDIS_URL"], args.address, loop)
    children = [subprocess.Popen([sys.executable, "manage.py", "run_queue"], cwd=ROOT, env=env)]
    if args.web_port:
        gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"{args.address}:{args.web_port}", "-w", "1"]
        children.append(subprocess.Popen([*gunicorn, "--log-level", "warning"], cwd=ROOT, env=env))

    stopping = threading.Event()

    def stop(signum, frame):
        stopping.set()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping.is_set() or any(child.poll() is None for child in children):
        time.sleep(0.2)


if __name__ == "__main__":
    main()

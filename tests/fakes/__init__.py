"""Fixtures that start the loopback fake platforms from outreach.sandbox (registered for every test
in tests/conftest.py), and what they share: a hand-moved clock and one server per test process."""

import atexit
import time


class Clock:
    """A time.time stand-in that tests move forward by hand; by default it starts at the real time
    (to the whole second) so reset times in headers stay meaningful to code comparing with now."""

    def __init__(self, start: float | None = None):
        self.current = float(int(time.time())) if start is None else start

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


_servers: dict[type, object] = {}


def running(fake_class):
    """One started server of this fake per test process (starting one binds a port and a thread);
    fixtures reset its state around each test."""
    if fake_class not in _servers:
        server = fake_class().start()
        atexit.register(server.stop)
        _servers[fake_class] = server
    return _servers[fake_class]

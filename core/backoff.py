"""Capped exponential backoff with jitter, shared by the outbox and the outbound webhooks."""

import random

BASE_SECONDS = 30
CAP_SECONDS = 3600


def backoff_seconds(attempt: int, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS) -> float:
    """30 s, 60 s, 120 s... up to an hour, each drawn from the upper half of its step so that many
    retries started together spread out instead of arriving together."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.random() * ceiling / 2

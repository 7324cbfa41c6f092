"""Render time of a page for the 300 ms budget: the best of a few runs, since other processes share
the machine (a single run measures the neighbours as much as the page)."""

import time


def fastest(call, runs: int = 5) -> float:
    """Seconds of the fastest of `runs` calls (after one warm-up call)."""
    call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return min(timings)

"""Loopback imitations of the platforms' APIs, for the demo (`manage.py sandbox`) and the tests.

Production code never imports this package; the tests' fixtures in tests/fakes/ start these.
"""

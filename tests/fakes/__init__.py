"""Fixtures that start the loopback fake platforms from outreach.sandbox."""

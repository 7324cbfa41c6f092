"""Outreach models arrive with the outreach engine; the app exists so the layout is in place."""

"""Small helpers every app may use and that know nothing of the domain: encryption of secrets at rest
and the retry backoff. `outreach` and `integrations` both depend on these, never on each other."""

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The loopback imitation platforms and their commands (`sandbox`, `creator_says`): installed only
    outside production (config/settings.py), so production code cannot reach them."""

    name = "outreach.sandbox"
    label = "sandbox"

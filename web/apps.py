from django.apps import AppConfig


class WebConfig(AppConfig):
    """The pages partnership managers work in: Django templates and htmx over the same services as the API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "web"
    verbose_name = "Pages"

    def ready(self):
        from web import preferences  # noqa: F401  (connects the sign-in receiver that remembers the time zone)

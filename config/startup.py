"""What a web process does once it is set up, before its first request (config.wsgi, config.asgi; the
page benchmark does the same).

The cyclic garbage collector's oldest generation is scanned whole from time to time: in a process
holding Django, the URLconf, the views and their modules, a full collection walks ~150,000 objects
that live as long as the process, about 45 ms each time, and a page that builds a few thousand rows
(the launch preview) triggers one every other request. `settle` imports the URLconf (so the views are
loaded now, not during the first request), collects once, and moves every object alive to the
permanent generation (`gc.freeze`), which collections no longer scan. Objects made by requests are
collected as before."""

import gc


def settle() -> None:
    """Load the URLconf, collect the garbage of starting, freeze what is left."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import of every view module is the point)
    gc.collect()
    gc.freeze()

"""Page views, one module per area; each view is thin: parse the request, call a service, render."""

"""The application's URLs plus a bare view answering 200, the baseline of bench/webhook_ingest.py."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as application


@csrf_exempt
def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), *application]

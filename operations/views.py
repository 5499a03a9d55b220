"""/health/ (people and machines), /metrics (Prometheus) and the Status page."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST

from banking.copies import rebuild_progress
from operations.health import checks
from operations.metrics import exposition, lag_now
from operations.status import consumer_processes, describe, recent_samples, series


class HealthView(HealthCheckView):
    """django-health-check's page, JSON (`?format=json` or Accept) and text; 503 while anything is unhealthy."""

    async def get(self, request, *args, **kwargs):
        self.checks = checks()
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


async def _health_results() -> list:
    instances = []
    for check in checks():
        kind, options = check if isinstance(check, tuple) else (check, {})
        instances.append((import_string(kind) if isinstance(kind, str) else kind)(**options))
    return await asyncio.gather(*(instance.get_result() for instance in instances))


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    return render(request, "operations/status.html")


@require_GET
async def status_now(request: HttpRequest) -> HttpResponse:
    """What runs and how far behind each group is: the part of the Status page that htmx refreshes."""
    results = await _health_results()
    try:
        lag, lag_error = await sync_to_async(lag_now, thread_sensitive=False)(), None
    except Exception as error:  # noqa: BLE001 - the cluster being away is shown, not raised
        lag, lag_error = {}, str(error)[:200]
    context = {
        "checks": [{"name": describe(r.check), "ok": r.error is None, "error": r.error} for r in results],
        "processes": await sync_to_async(consumer_processes, thread_sensitive=False)(),
        "lag": [{"group": g, "topic": t, "records": n} for (g, t), n in sorted(lag.items())],
        "lag_error": lag_error,
        "rebuild": await sync_to_async(rebuild_progress, thread_sensitive=False)(),
    }
    return render(request, "operations/_now.html", context)


@require_GET
def status_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(series(recent_samples()))

"""The Results page: load-test runs charted beside the original's, and short runs started from the page."""

from __future__ import annotations

from pathlib import Path

from celery.result import AsyncResult
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from loadtest.analysis import METRICS, cpu_per_configuration, load_test_results
from loadtest.tasks import STARTABLE, start_load_test_task


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    metric = request.GET.get("metric", "average-generator-latency")
    context = {
        "metrics": METRICS,
        "metric": metric if metric in METRICS else "average-generator-latency",
        "startable": STARTABLE,
        "task_id": request.GET.get("task"),
        "cpu": cpu_per_configuration(Path(settings.LOADTEST_RESULTS_DIR)),
    }
    return render(request, "loadtest/results.html", context)


@require_POST
def start_load_test(request: HttpRequest) -> HttpResponse:
    """Start a short load test on the Celery worker; the Results page then follows its progress."""
    config = request.POST.get("config", "")
    if config not in STARTABLE:
        return HttpResponse(f"unknown configuration {config!r}", status=400)
    task_id = start_load_test_task(config)
    if task_id is None:
        return HttpResponse("a load test is already running; start another when it has ended", status=409)
    return redirect(f"{reverse('results')}?task={task_id}")


@require_GET
def load_test_progress(request: HttpRequest, task_id: str) -> HttpResponse:
    """The progress bar of a running load test; it polls itself until the run has ended."""
    result = AsyncResult(task_id)
    info = result.info if isinstance(result.info, dict) else {}
    response = render(request, "loadtest/_progress.html", {"task_id": task_id, "state": result.state, "info": info})
    if result.state in ("SUCCESS", "FAILURE"):
        trigger_client_event(response, "load-test-ended")  # the page redraws its chart with the new run
    return response


@require_GET
def results_data(request: HttpRequest) -> JsonResponse:
    """Every run in loadtest-results/, aggregated by configuration and generators, and the original's runs."""
    return JsonResponse({"items": load_test_results()}, json_dumps_params={"allow_nan": False})

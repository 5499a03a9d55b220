"""Load-test runs started from the Results page, run by the Celery worker."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from loadtest.config import load_config
from loadtest.runner import run_load_test

STARTABLE = ("it", "demo")  # short enough to start from a web page; `full` runs for about 100 minutes
RUNNING = "loadtest:running"  # in the cache while a run started from the page is queued or running
LONGEST_RUN = 30 * 60  # seconds: a run that never reports its end (a dead worker) stops blocking after this


def start_load_test_task(config_name: str) -> str | None:
    """Queue a run of a short configuration; None when one is queued or running already (one at a time)."""
    if not cache.add(RUNNING, config_name, LONGEST_RUN):
        return None
    return run_load_test_task.delay(config_name).id


@shared_task(bind=True)
def run_load_test_task(self, config_name: str) -> dict:
    """Run a named configuration against WEB_URL, publishing the loop in hand as the task's progress."""
    config = load_config(config_name)
    try:
        outcome = run_load_test(
            config,
            settings.WEB_URL.rstrip("/"),
            settings.LOADTEST_RESULTS_DIR,
            report=lambda line: None,
            on_loop=lambda loop, generators: self.update_state(
                state="PROGRESS", meta={"loop": loop, "max_loops": config.max_loops, "generators": generators}
            ),
        )
    finally:
        cache.delete(RUNNING)
    return {
        "loops": outcome.last_loop,
        "max_loops": config.max_loops,
        "time_outs": outcome.time_outs,
        "succeeded": outcome.succeeded(config),
        "errors": outcome.errors[:5],
    }

"""Starting a load test from the Results page: the view queues the Celery task and follows its progress."""

import json
from types import SimpleNamespace

import pytest


@pytest.fixture
def queued(monkeypatch, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    runs = []
    monkeypatch.setattr(
        "loadtest.tasks.run_load_test_task.delay", lambda config: runs.append(config) or SimpleNamespace(id="task-1")
    )
    yield runs
    from django.core.cache import cache

    cache.clear()


def test_starting_a_run_queues_the_task_and_shows_its_progress(client, queued):
    response = client.post("/results/run/", {"config": "demo"})

    assert queued == ["demo"]
    assert response.status_code == 302 and response["Location"] == "/results/?task=task-1"
    assert b'id="load-test-progress"' in client.get(response["Location"]).content


def test_a_second_run_is_refused_while_one_is_queued_or_running(client, queued):
    client.post("/results/run/", {"config": "demo"})

    second = client.post("/results/run/", {"config": "it"})

    assert second.status_code == 409 and b"already running" in second.content
    assert queued == ["demo"]


def test_only_the_short_configurations_can_be_started_from_the_page(client):
    assert client.post("/results/run/", {"config": "full"}).status_code == 400


@pytest.mark.parametrize(
    ("state", "info", "text", "polls"),
    [
        ("PROGRESS", {"loop": 2, "max_loops": 3, "generators": 0}, b"loop 2 of 3", True),
        ("SUCCESS", {"loops": 3, "max_loops": 3, "time_outs": 0, "errors": []}, b"has ended", False),
        ("FAILURE", None, b"failed to run", False),
    ],
)
def test_the_progress_bar_polls_until_the_run_ends(client, monkeypatch, state, info, text, polls):
    monkeypatch.setattr("loadtest.views.AsyncResult", lambda task_id: SimpleNamespace(state=state, info=info))

    page = client.get("/results/run/task-1/").content

    assert text in page
    assert (b'hx-trigger="every 1s"' in page) is polls


def test_the_progress_bar_tells_the_page_to_redraw_the_chart_when_the_run_ends(client, monkeypatch):
    monkeypatch.setattr("loadtest.views.AsyncResult", lambda task_id: SimpleNamespace(state="SUCCESS", info={}))

    response = client.get("/results/run/task-1/", HTTP_HX_REQUEST="true")

    assert json.loads(response["HX-Trigger"]) == {"load-test-ended": {}}

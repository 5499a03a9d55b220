"""`manage.py loadtest it` end to end, as the original's CI ran it; and the pieces that need no stack."""

import json
import os
import time

import pytest
from django.core.management import call_command

from kernel.bus import no_answer_reason
from loadtest import closed_loop
from loadtest.config import load_config
from loadtest.generator import GET_ACCOUNT, MONEY_TRANSFER, next_step
from testing.live import running_app

# Playwright's sync API keeps an event loop in this thread; Django's test database handling is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_the_named_configurations_carry_the_original_settings():
    full = load_config("full")
    assert (full.max_interaction_ms, full.min_loop_ms, full.max_loops, full.max_time_outs) == (5000, 1000, 6000, 10)
    assert (full.loops_per_generator, full.loops_for_success) == (60, 1000)
    assert load_config("it").max_time_outs == 0
    assert (load_config("compare").accounts_first, load_config("ramp").accounts_first) == (True, False)


def test_a_configuration_with_a_key_we_do_not_know_is_refused(tmp_path):
    typo = tmp_path / "typo.toml"
    typo.write_text(IT_WITH_ACCOUNTS_FIRST + "acounts_first = true\n")

    with pytest.raises(ValueError, match="unknown keys acounts_first"):
        load_config(str(typo))


def test_the_transfer_chain_ping_pongs_upwards_with_deliberate_failures():
    assert next_step("from", 100) == ("to", 200)
    assert next_step("to", 200) == ("from", 300)
    assert next_step("from", 5000) == ("invalid_token", 100)
    assert next_step("invalid_token", 100) == ("from", 100)
    assert next_step("to", 5000) == ("insufficient_funds", 100_000)
    assert next_step("insufficient_funds", 100_000) == ("to", 100)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_it_configuration_passes_against_the_whole_application(tmp_path, django_db_blocker):
    with running_app(tmp_path / "logs") as app:
        web = app.start_web("web")
        with _no_exit():
            call_command("loadtest", "it", f"--web-url={web}", f"--results={tmp_path}")

        ahead = tmp_path / "ahead.toml"  # two generators that open their accounts before the first loop
        ahead.write_text(IT_WITH_ACCOUNTS_FIRST)
        with _no_exit():
            call_command("loadtest", str(ahead), f"--web-url={web}", f"--results={tmp_path}")

    baseline, *rows = [json.loads(line) for line in next(tmp_path.glob("it-*.jsonl")).read_text().splitlines()]
    assert baseline["baseline"]["ping_pong"]["round_trips"] == 200
    assert baseline["settings"]["KAFKA_LINGER_MS"] == "0" and baseline["machine"]["cores"]
    assert [row["loop"] for row in rows] == [1, 2, 3]
    assert all(row["interaction_ms"] is not None for row in rows)
    assert rows[-1]["cpu_seconds"]["kafka"] > 0
    _, *rows = [json.loads(line) for line in next(tmp_path.glob("ahead-*.jsonl")).read_text().splitlines()]
    assert [row["generators"] for row in rows] == [0, 1, 2]
    assert rows[-1]["generator_latencies_ms"]  # the generators that joined were already logged in, and transferred


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_closed_loop_measures_its_floors_after_the_warm_up_while_no_transfer_is_under_way(tmp_path, monkeypatch):
    """Floors measured on a fresh stack before any load read two to three times those of a warm broker."""
    transfers, floors, call = [], [], closed_loop._call

    async def timed_call(ws, query, variables):
        started = time.monotonic()
        answer = await call(ws, query, variables)
        if query == MONEY_TRANSFER:
            transfers.append((started, time.monotonic()))
        return answer

    def floor():
        started = time.monotonic()
        time.sleep(0.5)
        floors.append((started, time.monotonic()))
        return {"p50_ms": 1.0}

    monkeypatch.setattr(closed_loop, "_call", timed_call)
    monkeypatch.setattr(closed_loop, "measure_ping_pong", floor)
    monkeypatch.setattr(closed_loop, "measure_relay", floor)
    with running_app(tmp_path / "logs") as app:
        result = closed_loop.run_closed_loop(app.start_web("web"), clients=2, seconds=2, warmup=2)

    (began, _), (_, ended) = floors
    assert result.transfers > 0
    assert any(done < began for _, done in transfers), "no warm-up before the floors"
    assert not [t for t in transfers if t[0] < ended and t[1] > began], "transfers under way during the floors"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_closed_loop_logs_in_again_when_the_bank_does_not_answer_a_login_in_time(tmp_path, monkeypatch):
    """With the projector killed during a run, one customer's login timed out and ended the whole benchmark."""
    call, unanswered = closed_loop._call, []

    async def first_login_unanswered(ws, query, variables):
        if query == GET_ACCOUNT and not unanswered:
            unanswered.append(variables["u"])
            return {"data": {"get_account": {"iban": None, "token": None, "reason": no_answer_reason()}}}
        return await call(ws, query, variables)

    monkeypatch.setattr(closed_loop, "_call", first_login_unanswered)
    monkeypatch.setattr(closed_loop, "measure_ping_pong", lambda: {"p50_ms": 1.0})
    monkeypatch.setattr(closed_loop, "measure_relay", lambda: {"p50_ms": 1.0})
    with running_app(tmp_path / "logs") as app:
        result = closed_loop.run_closed_loop(app.start_web("web"), clients=1, seconds=1, warmup=0.5)

    assert unanswered and result.transfers > 0


IT_WITH_ACCOUNTS_FIRST = """
max_interaction_ms = 5000
min_loop_ms = 1000
max_loops = 3
max_time_outs = 0
loops_per_generator = 1
loops_for_success = 3
accounts_first = true
"""


class _no_exit:
    """Fail with the command's output when it exits non-zero (it calls sys.exit(1) on failure)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is SystemExit and error.code not in (0, None):
            pytest.fail(f"loadtest it exited with status {error.code}")
        return False

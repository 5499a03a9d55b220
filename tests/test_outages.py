"""Dependencies that go away and come back: nothing is dead-lettered for it, nothing lost, nothing wedged."""

import os
import threading
import uuid

import pytest

from devstack import control
from devstack.profiles import get_profile
from kafka_bridge.tools.offsets import end_offsets
from testing.graphql import TRANSFER_MUTATION, new_user, transfer
from testing.kafka import Collector
from testing.live import post, running_app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture
def stack_control():
    """Stop and start processes of the stack `make test` runs these tests under."""
    if "DEVSTACK_PROFILE" not in os.environ:
        pytest.fail("outage tests act on the stack's processes: run them with `make test`", pytrace=False)
    profile = get_profile(os.environ["DEVSTACK_PROFILE"])
    stopped = []

    def act(action: str, name: str) -> None:
        control.request(profile, action, name)
        (stopped.append if action in ("stop", "kill") else stopped.remove)(name)

    yield act
    for name in stopped:
        control.request(profile, "start", name)


def test_a_transfer_sent_while_the_registry_is_down_is_answered_and_projected_once_it_is_back(
    stack_control, django_db_blocker, tmp_path
):
    """A registry that does not answer is not an undecodable record: nothing may be dead-lettered for it."""
    letters = Collector(end_offsets("commands_dead_letter"), decode=False)
    projector_letters = Collector(end_offsets("projector_dead_letter"), decode=False)
    with django_db_blocker.unblock(), running_app(tmp_path) as app:
        web = app.start_web("web", COMMAND_ANSWER_TIMEOUT="90")
        username, account = new_user(web)
        assert transfer(web, username, account["token"], 100, "cash", account["iban"])["success"] is True
        stack_control("stop", "registry")  # the web process knows the schemas it writes with by now
        app.restart("handler")  # a handler and a projector that have never seen a schema
        app.restart("projector")
        variables = {
            "uuid": str(uuid.uuid4()),
            "username": username,
            "token": account["token"],
            "amount": 4_200,
            "from": "cash",
            "to": account["iban"],
            "descr": "while the registry was down",
        }
        answer = {}
        sending = threading.Thread(
            target=lambda: answer.update(post(web, TRANSFER_MUTATION, variables, timeout=120)[1])
        )
        sending.start()
        app.wait_for_log("handler", "retrying")
        app.wait_for_log("projector", "projector started")

        stack_control("start", "registry")
        sending.join(120)

        assert answer["data"]["money_transfer"]["success"] is True
        query = "query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 1) { changed_by descr } }"
        newest = post(web, query, {"iban": account["iban"]})[1]["data"]["transactions_by_iban"]
        assert newest == [{"changed_by": "€42,00", "descr": "while the registry was down"}]  # read your writes
        assert app.processes["handler"].poll() is None and app.processes["projector"].poll() is None
    assert letters.settle(1) == [] and projector_letters.settle(1) == []
    letters.close()
    projector_letters.close()

"""Read-your-writes: once a client is told "success", the transfer is in the read model, wherever its events went.

A transfer's feedback is keyed by the sender and its credit by the receiver. Here the two land on partitions
that two different projectors read, and one projector or the other is held back a moment for each transfer:
the answer must wait for the credit, not overtake it.
"""

import threading
import uuid
import zlib

import pytest

from testing.graphql import TRANSFER_MUTATION, new_user
from testing.live import post, running_app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]

NEWEST = "query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 1) { descr } }"


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), running_app(tmp_path_factory.mktemp("ryw-logs")) as running:
        running.start_projector("second-projector")  # the group's partitions are shared between the two
        running.wait_for_log("second-projector", "assigned")
        running.web = running.start_web("web")
        yield running


def send(web, username, account, amount, target, descr):
    variables = {"uuid": str(uuid.uuid4()), "username": username, "token": account["token"], "amount": amount}
    variables |= {"from": account["iban"] if target else "cash", "to": target or account["iban"], "descr": descr}
    return post(web, TRANSFER_MUTATION, variables)[1]["data"]["money_transfer"]


def username_on(half: int) -> str:
    """A username whose records librdkafka puts on the first (0) or second (1) half of 24 partitions; each
    projector of the two is assigned one half of every topic."""
    while True:
        username = f"ryw-{uuid.uuid4().hex[:8]}"
        if zlib.crc32(username.encode()) % 24 // 12 == half:
            return username


def test_forty_transfers_in_a_row_are_each_on_top_of_both_accounts_the_moment_they_are_confirmed(app):
    sender, sender_account = new_user(app.web, username=username_on(0))
    receiver, receiver_account = new_user(app.web, username=username_on(1))
    busy = [new_user(app.web) for _ in range(8)] * 5  # forty clients keep the bank busy meanwhile
    done = threading.Event()

    def keep_the_bank_busy(username, account):
        while not done.is_set():
            send(app.web, username, account, 100, None, "noise")

    noise = [threading.Thread(target=keep_the_bank_busy, args=customer) for customer in busy]
    for thread in noise:
        thread.start()
    missed = []
    try:
        assert send(app.web, sender, sender_account, 100_000, None, "start")["success"] is True
        for n in range(40):
            descr = f"transfer {n}"
            held_back = ("projector", "second-projector")[n % 2]
            app.pause(held_back)
            threading.Timer(0.3, app.resume, args=(held_back,)).start()
            assert send(app.web, sender, sender_account, 100, receiver_account["iban"], descr)["success"] is True
            for account in (sender_account, receiver_account):
                newest = post(app.web, NEWEST, {"iban": account["iban"]})[1]["data"]["transactions_by_iban"]
                if newest != [{"descr": descr}]:
                    missed.append((descr, account["iban"], newest))
    finally:
        done.set()
        for thread in noise:
            thread.join(30)

    assert missed == []

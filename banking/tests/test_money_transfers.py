"""Every rule and reason of the ledger's money transfers (seed-inventory §5.5), and the fixes to the original, run
as the bank runs them: in a batch of the ledger."""

import dataclasses
import uuid

import pytest
from django.utils import timezone

from accounts.iban import iban_for
from accounts.models import LedgerAccount
from accounts.tests.factories import LedgerAccountFactory
from banking.ledger import Received, execute_commands
from kernel.balances import BalanceChange
from kernel.rules import MAX_AMOUNT_CENTS
from transfers.commands import TransferMoney
from transfers.models import ProcessedTransfer
from transfers.rules import (
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_LARGE,
    BOTH_UNKNOWN,
    DESCRIPTION_IS_INVALID,
    FROM_AND_TO_ARE_THE_SAME,
    FROM_IS_INVALID,
    INSUFFICIENT_FUNDS,
    INVALID_TOKEN,
    REFERENCE_IS_INVALID,
    TO_IS_INVALID,
    UUID_ALREADY_USED,
)

pytestmark = pytest.mark.django_db(databases=["ledger"])

OTHER_BANK = "NL91ABNA0417164300"
UNKNOWN_OPEN = iban_for("0999999999")  # well-formed, but no account here


@pytest.fixture
def alice():
    return LedgerAccountFactory(username="alice", balance_cents=10_000)


@pytest.fixture
def bob():
    return LedgerAccountFactory(username="bob", balance_cents=0)


def transfer(
    source, target, amount=1_000, token=None, command_id=None, delivery="commands:0:1", description="x", reference=None
):
    source_iban = getattr(source, "iban", source)
    command = TransferMoney(
        command_id=command_id or uuid.uuid4(),
        token=token if token is not None else getattr(source, "token", ""),
        amount_cents=amount,
        from_account=source_iban,
        to_account=getattr(target, "iban", target),
        description=description,
        reference=reference,
    )
    return execute_commands([Received(command, delivery)])[0]


def changes(outcome):
    """Its balance changes, without the ledger's clock (which `test_each_change_is_stamped...` checks)."""
    return tuple(dataclasses.replace(change, changed_at=None) for change in outcome.balance_changes)


def balance(account):
    return LedgerAccount.objects.get(pk=account.pk).balance_cents


def test_a_transfer_debits_then_credits_and_reports_both_changes(alice, bob):
    outcome = transfer(alice, bob, 1_234, description="lunch")

    assert outcome.reason is None
    assert changes(outcome) == (
        BalanceChange("alice", alice.iban, 8_766, -1_234, bob.iban, "lunch"),
        BalanceChange("bob", bob.iban, 1_234, 1_234, alice.iban, "lunch"),
    )
    assert (balance(alice), balance(bob)) == (8_766, 1_234)


def test_each_change_is_stamped_with_the_ledgers_clock_and_published_again_with_the_same(alice, bob):
    before = timezone.now()
    command_id = uuid.uuid4()
    first = transfer(alice, bob, 100, command_id=command_id)
    again = transfer(alice, bob, 100, command_id=command_id)  # the same delivery: its Kafka commit was lost

    [debit, credit] = first.balance_changes
    assert before <= debit.changed_at == credit.changed_at <= timezone.now()  # one ledger transaction, one time
    assert again.balance_changes == first.balance_changes


def test_a_payment_reference_goes_with_both_changes_and_a_blank_one_is_none(alice, bob):
    assert {c.reference for c in transfer(alice, bob, 100, reference=" INV-2026-0042 ").balance_changes} == {
        "INV-2026-0042"
    }
    assert {c.reference for c in transfer(alice, bob, 100, reference="  ").balance_changes} == {None}
    assert transfer(alice, bob, 100, reference="x" * 36).reason == REFERENCE_IS_INVALID
    assert transfer(alice, bob, 100, reference="INV\x00").reason == REFERENCE_IS_INVALID


def test_a_deposit_from_cash_needs_no_token(bob):
    outcome = transfer("cash", bob, 1_000, token="")

    assert outcome.reason is None
    assert changes(outcome) == (BalanceChange("bob", bob.iban, 1_000, 1_000, "cash", "x"),)


def test_money_sent_to_another_bank_or_cash_leaves_the_bank(alice):
    assert changes(transfer(alice, OTHER_BANK, 500)) == (
        BalanceChange("alice", alice.iban, 9_500, -500, OTHER_BANK, "x"),
    )
    assert transfer(alice, "cash", 500).reason is None
    assert balance(alice) == 9_000


def test_money_from_an_open_iban_we_do_not_hold_is_credited_without_a_token(bob):
    outcome = transfer(UNKNOWN_OPEN, bob, 700, token="")

    assert outcome.reason is None
    assert balance(bob) == 700


def test_the_overdraft_limit_allows_down_to_minus_500_euro(alice, bob):
    assert transfer(alice, bob, 60_000).reason is None
    assert balance(alice) == -50_000
    assert transfer(alice, bob, 1).reason == INSUFFICIENT_FUNDS
    assert balance(alice) == -50_000


@pytest.mark.parametrize(
    ("source", "target", "amount", "token", "reason"),
    [
        ("NL66OPEN00000000a0", "cash", 100, "", FROM_IS_INVALID),
        ("Albert Heijn BV", "cash", 100, "", FROM_IS_INVALID),
        ("cash", "cash", 100, "", FROM_AND_TO_ARE_THE_SAME),
        ("cash", OTHER_BANK, 100, "", BOTH_UNKNOWN),
        ("cash", UNKNOWN_OPEN, 100, "", BOTH_UNKNOWN),
        ("cash", "NL00OPEN0000000001", 100, "", TO_IS_INVALID),
        ("cash", "", 100, "", TO_IS_INVALID),
    ],
)
def test_refusals_keep_the_original_reasons_and_move_nothing(source, target, amount, token, reason):
    assert transfer(source, target, amount, token=token).reason == reason


def test_a_wrong_token_is_refused(alice, bob):
    assert transfer(alice, bob, 100, token="9" * 20).reason == INVALID_TOKEN
    assert (balance(alice), balance(bob)) == (10_000, 0)


def test_from_and_to_the_same_account_is_refused(alice):
    assert transfer(alice, alice, 100).reason == FROM_AND_TO_ARE_THE_SAME


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        (0, AMOUNT_NOT_POSITIVE),  # the original said "insufficient funds"
        (-500, AMOUNT_NOT_POSITIVE),  # the original moved money the other way
        (MAX_AMOUNT_CENTS + 1, AMOUNT_TOO_LARGE),
        (2**63 - 1, AMOUNT_TOO_LARGE),
    ],
)
def test_zero_negative_and_absurd_amounts_are_refused(alice, bob, amount, reason):
    assert transfer(alice, bob, amount).reason == reason
    assert (balance(alice), balance(bob)) == (10_000, 0)


def test_a_repeated_command_gets_its_answer_again_without_moving_money(alice, bob):
    command_id = uuid.uuid4()
    first = transfer(alice, bob, 1_000, command_id=command_id, delivery="commands:3:10")

    repeat = transfer(alice, bob, 1_000, command_id=command_id, delivery="commands:3:11")

    assert first.reason is None and repeat.reason is None
    assert repeat.balance_changes == ()  # the original re-emits feedback only
    assert (balance(alice), balance(bob)) == (9_000, 1_000)


def test_a_failed_command_repeats_its_reason(alice, bob):
    command_id = uuid.uuid4()
    transfer(alice, bob, 100, token="bad", command_id=command_id)

    repeat = transfer(alice, bob, 100, token="bad", command_id=command_id, delivery="commands:0:2")
    assert repeat.reason == INVALID_TOKEN


def test_the_same_delivery_read_again_gets_its_events_again(alice, bob):
    """After a crash between the ledger commit and the Kafka commit, the batch is read again."""
    command_id = uuid.uuid4()
    first = transfer(alice, bob, 1_000, command_id=command_id, delivery="commands:3:10")

    again = transfer(alice, bob, 1_000, command_id=command_id, delivery="commands:3:10")

    assert again == first
    assert (balance(alice), balance(bob)) == (9_000, 1_000)


def test_a_batch_runs_in_order_and_sees_its_own_changes(alice, bob):
    commands = [
        TransferMoney(uuid.uuid4(), alice.token, 10_000, alice.iban, bob.iban, "all"),
        TransferMoney(uuid.uuid4(), bob.token, 4_000, bob.iban, alice.iban, "some back"),
        TransferMoney(uuid.uuid4(), alice.token, 60_000, alice.iban, bob.iban, "too much"),
    ]

    outcomes = execute_commands([Received(c, f"commands:0:{n}") for n, c in enumerate(commands)])

    assert [o.reason for o in outcomes] == [None, None, INSUFFICIENT_FUNDS]
    assert (balance(alice), balance(bob)) == (4_000, 6_000)
    assert ProcessedTransfer.objects.filter(command_id__in=[c.command_id for c in commands]).count() == 3


@pytest.mark.parametrize(
    ("target", "description", "reason"),
    [
        ("cash", "rent\u0000", DESCRIPTION_IS_INVALID),  # PostgreSQL refuses NUL: it once stopped the handler
        ("cash", "line\nbreak", DESCRIPTION_IS_INVALID),
        ("cash", "x" * 141, DESCRIPTION_IS_INVALID),
        ("N" * 300, "x", TO_IS_INVALID),  # longer than the read model's column: it once stopped the projector
        ("Albert\u0000Heijn", "x", TO_IS_INVALID),
        (UNKNOWN_OPEN, "x", TO_IS_INVALID),  # ours by its form, no such account: the money no longer leaves
    ],
)
def test_hostile_text_and_unknown_accounts_of_ours_are_refused_and_move_nothing(alice, target, description, reason):
    assert transfer(alice, target, 100, description=description).reason == reason
    assert balance(alice) == 10_000


def test_ibans_are_read_without_spaces_and_in_any_case(alice, bob):
    spaced = " ".join(bob.iban[i : i + 4] for i in range(0, len(bob.iban), 4)).lower()

    outcome = transfer(alice, spaced, 100)

    assert outcome.reason is None and outcome.balance_changes[1].iban == bob.iban
    assert transfer("CASH", bob, 100, token="").reason is None


def test_a_command_id_sent_again_with_another_payload_is_refused_and_changes_nothing(alice, bob):
    command_id = uuid.uuid4()
    assert transfer(alice, bob, 1_000, command_id=command_id).reason is None

    other = transfer(alice, bob, 9_000, command_id=command_id, delivery="commands:0:7")

    assert other.reason == UUID_ALREADY_USED and other.balance_changes == ()
    assert (balance(alice), balance(bob)) == (9_000, 1_000)
    assert transfer(alice, bob, 1_000, command_id=command_id, delivery="commands:0:8").reason is None  # the same

"""Arbitrary input against the whole running bank: through GraphQL, and straight onto the commands topic.

Whatever comes in, the handler and the projector keep running (the same processes), every well-formed
command gets exactly one answer, and an ordinary transfer afterwards is answered and projected.
"""

import time
import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kafka_bridge.tools.offsets import end_offsets
from kafka_bridge.wire.codecs import get_codec
from kafka_bridge.wire.messages import ConfirmAccountCreation, ConfirmMoneyTransfer
from testing.graphql import TRANSFER_MUTATION, new_user
from testing.kafka import Collector, produce
from testing.live import post, subscription

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


FUZZ = settings(
    deadline=None,
    database=None,  # nothing kept between runs: each run explores afresh
    phases=(Phase.explicit, Phase.generate),  # no shrinking: against a real stack it would take many minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Any text at all, odd characters first: NUL, controls, lone surrogates, right-to-left marks, emoji.
ODD = st.sampled_from(["\u0000", "\u0007", "\n", "\ud800", "\u202e", "\U0001f4b8", "'; DROP TABLE x; --", "%s"])
TEXT = st.one_of(st.text(max_size=40), st.builds(lambda a, b: a + b, st.text(max_size=10), ODD), st.text(min_size=300))
AVRO_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)  # Avro strings are UTF-8
ACCOUNT = st.one_of(st.just("cash"), st.just("NL66OPEN0000000000"), st.just("nl66 open 0000 0000 00"), TEXT)


@pytest.fixture(scope="module")
def app(bank):
    return bank


def assert_still_serving(app):
    """The same handler and projector processes, and an ordinary deposit answered and in the read model."""
    assert app.processes["handler"].poll() is None and app.processes["projector"].poll() is None
    username, account = new_user(app.web)
    variables = {"uuid": str(uuid.uuid4()), "username": username, "token": account["token"], "amount": 1_234}
    variables |= {"from": "cash", "to": account["iban"], "descr": "after the fuzz"}
    assert post(app.web, TRANSFER_MUTATION, variables)[1]["data"]["money_transfer"]["success"] is True
    query = "query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 1) { descr } }"
    assert post(app.web, query, {"iban": account["iban"]})[1]["data"]["transactions_by_iban"] == [
        {"descr": "after the fuzz"}
    ]


@fuzz(60)
@given(
    variables=st.fixed_dictionaries(
        {
            "uuid": st.one_of(st.uuids().map(str), TEXT),
            "username": TEXT,
            "token": TEXT,
            "amount": st.integers(min_value=-(2**31), max_value=2**31 - 1),
            "from": ACCOUNT,
            "to": ACCOUNT,
            "descr": TEXT,
        }
    )
)
def test_any_transfer_through_graphql_gets_an_answer_or_an_error_never_a_500(app, variables):
    status, body = post(app.web, TRANSFER_MUTATION, variables)

    assert status == 200, body
    if body.get("data"):
        outcome = body["data"]["money_transfer"]
        assert isinstance(outcome["success"], bool) and (outcome["success"] or outcome["reason"])
    else:
        assert body["errors"] and not any("internal error" in e["message"] for e in body["errors"])


REFUSED = ["\u0000", "\u0007", "\ud800", "x" * 10_000]  # never plain text: refused wherever they come
ODD = ["\u202e\U0001f4b8", "' OR 1=1 --"]  # plain text, for filters too (a subscription then just listens)


def every_text_argument():
    """(operation type, field, argument) for every String argument of every root field of the schema."""
    from graphql import GraphQLString, get_nullable_type

    from graphql_api.schema import schema

    graphql = schema._schema
    roots = {"query": graphql.query_type, "mutation": graphql.mutation_type, "subscription": graphql.subscription_type}
    return [
        (kind, name, argument)
        for kind, root in roots.items()
        for name, field in root.fields.items()
        for argument, definition in field.args.items()
        if get_nullable_type(definition.type) == GraphQLString
    ]


def plausible(definition):
    """A value of the argument's type that is no attack: the attack goes into one argument at a time."""
    from graphql import GraphQLEnumType, GraphQLInt, GraphQLString, get_nullable_type

    kind = get_nullable_type(definition.type)
    if kind == GraphQLString:
        return "NL66OPEN0000000000"
    if kind == GraphQLInt:
        return 1
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    return str(uuid.uuid4())  # an ID


@pytest.mark.parametrize(("kind", "field", "argument"), every_text_argument())
def test_hostile_text_in_any_argument_of_any_field_gets_an_answer_or_a_reason_never_an_internal_error(
    app, kind, field, argument
):
    from graphql_api.schema import schema

    definition = getattr(schema._schema, f"{kind}_type").fields[field]
    for hostile in REFUSED + (ODD if kind != "subscription" else []):
        values = {name: plausible(arg) for name, arg in definition.args.items()} | {argument: hostile}
        declared = ", ".join(f"${name}: {arg.type}" for name, arg in definition.args.items())
        passed = ", ".join(f"{name}: ${name}" for name in definition.args)
        leaf = leaf_fields(definition.type)
        document = f"{kind} ({declared}) {{ {field}({passed}) {leaf} }}"
        if kind == "subscription":
            with subscription(app.web, document, values) as receive:
                body = receive(10) or {}
        else:
            status, body = post(app.web, document, values)
            assert status == 200, body
        messages = [error["message"] for error in body.get("errors") or []]
        assert not any("internal error" in message for message in messages), (argument, hostile[:20], messages)
        assert body.get("data") or messages, (argument, hostile[:20], body)


def leaf_fields(output) -> str:
    """A selection of every scalar field of an output type (or nothing for a scalar)."""
    from graphql import get_named_type, is_leaf_type

    named = get_named_type(output)
    if is_leaf_type(named):
        return ""
    return "{ " + " ".join(name for name, f in named.fields.items() if is_leaf_type(get_named_type(f.type))) + " }"


def test_after_the_graphql_fuzz_the_bank_still_serves(app):
    assert_still_serving(app)


transfers = st.builds(
    ConfirmMoneyTransfer,
    id=st.uuids(),
    token=AVRO_TEXT,
    amount_cents=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    from_account=st.one_of(st.just("cash"), AVRO_TEXT),
    to_account=st.one_of(st.just("NL66OPEN0000000000"), AVRO_TEXT),
    description=AVRO_TEXT,
)
creations = st.builds(ConfirmAccountCreation, id=st.uuids(), username=AVRO_TEXT)
junk = st.one_of(
    st.binary(max_size=300).map(lambda b: b"\x01" + b),  # not Confluent-framed
    st.binary(max_size=300).map(lambda b: b"\x00\x7f\xff\xff\xf0" + b),  # framed, with a schema id nobody has
)


@fuzz(4)
@given(
    commands=st.lists(st.tuples(st.one_of(st.none(), AVRO_TEXT), st.one_of(transfers, creations)), min_size=40),
    garbage=st.lists(st.tuples(st.one_of(st.none(), AVRO_TEXT), junk), max_size=10),
)
def test_any_record_on_the_commands_topic_is_answered_once_or_dead_lettered(app, commands, garbage):
    codec = get_codec()
    ids = {command.id for _, command in commands}
    feedback = {
        topic: Collector(end_offsets(topic)) for topic in ("money_transfer_feedback", "account_creation_feedback")
    }
    letters = Collector(end_offsets("commands_dead_letter"), decode=False)

    produce(
        [("commands", key, codec.encode("commands", command)) for key, command in commands]
        + [("commands", key, value) for key, value in garbage]
    )

    def answered():
        return Counter(m.id for c in feedback.values() for _, m in c.records if m.id in ids)

    deadline = time.monotonic() + 60
    while not set(answered()) >= ids:
        assert time.monotonic() < deadline, f"{len(ids - set(answered()))} of {len(ids)} commands got no answer"
        for collector in feedback.values():
            collector.poll(0.1)
    for collector in feedback.values():
        collector.settle(1)
        collector.close()
    assert set(answered()) == ids and max(answered().values()) == 1
    assert len(letters.until(lambda r: len(r) >= len(garbage))) == len(garbage)
    letters.close()
    assert app.processes["handler"].poll() is None and app.processes["projector"].poll() is None


def test_after_the_kafka_fuzz_the_bank_still_serves(app):
    assert_still_serving(app)

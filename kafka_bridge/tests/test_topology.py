import json

import pytest

from kafka_bridge.wire.topology import SCHEMAS_DIR, Topic, TopologyError, get_topology, parse_topology

# seed-inventory §2.3: record -> (field name, Avro type) in wire order
ORIGINAL_RECORDS = {
    "ConfirmAccountCreation": [("id", "Uuid"), ("username", "string")],
    "AccountCreationConfirmed": [("id", "Uuid"), ("iban", "string"), ("token", "string")],
    "AccountCreationFailed": [("id", "Uuid"), ("reason", "string")],
    "ConfirmMoneyTransfer": [
        ("id", "Uuid"),
        ("token", "string"),
        ("amount", "long"),
        ("from", "string"),
        ("to", "string"),
        ("description", "string"),
    ],
    "MoneyTransferConfirmed": [("id", "Uuid")],
    "MoneyTransferFailed": [("id", "Uuid"), ("reason", "string")],
    "BalanceChanged": [
        ("iban", "string"),
        ("new_balance", "long"),
        ("changed_by", "long"),
        ("from_to", "string"),
        ("description", "string"),
    ],
}


ORIGINAL_TOPICS = ("commands", "account_creation_feedback", "money_transfer_feedback", "balance_changed")


def test_the_topology_declares_the_four_topics_of_the_original_and_ours():
    topology = get_topology()

    assert {topic.name for topic in topology.topics} == {topic.value for topic in Topic}
    assert topology.topic("commands_dead_letter").records == topology.topic("projector_dead_letter").records == ()
    for name in ORIGINAL_TOPICS:
        topic = topology.topic(name)
        assert (topic.partitions, topic.replication_factor, topic.config) == (24, 3, {"retention.ms": "-1"})
    assert topology.topic("alert_settings").config == {"cleanup.policy": "compact"}  # an account's latest rules


def test_the_topology_binds_the_seven_subjects_of_the_original_and_our_alerts():
    assert sorted(get_topology().subjects()) == [
        "account_creation_feedback-nl.openweb.data.AccountCreationConfirmed",
        "account_creation_feedback-nl.openweb.data.AccountCreationFailed",
        "alert_rule_feedback-nl.openweb.data.AlertRuleChangeConfirmed",
        "alert_rule_feedback-nl.openweb.data.AlertRuleChangeFailed",
        "alert_settings-nl.openweb.data.AlertsSettingsUpdated",
        "alerts-nl.openweb.data.AlertTriggered",
        "alerts-nl.openweb.data.AlertTriggeredV2",
        "balance_changed-nl.openweb.data.BalanceChanged",
        "commands-nl.openweb.data.ConfirmAccountCreation",
        "commands-nl.openweb.data.ConfirmAlertRuleChange",
        "commands-nl.openweb.data.ConfirmMoneyTransfer",
        "money_transfer_feedback-nl.openweb.data.MoneyTransferConfirmed",
        "money_transfer_feedback-nl.openweb.data.MoneyTransferFailed",
    ]


@pytest.mark.parametrize("record", ORIGINAL_RECORDS)
def test_each_schema_has_the_original_name_namespace_and_fields_in_order(record):
    schema = json.loads((SCHEMAS_DIR / f"{record}.avsc").read_text())

    assert (schema["namespace"], schema["name"]) == ("nl.openweb.data", record)
    original = ORIGINAL_RECORDS[record]
    fields = [
        (f["name"], f["type"] if isinstance(f["type"], str) else f["type"]["name"])
        for f in schema["fields"][: len(original)]
    ]
    assert fields[: len(original)] == original
    for added in schema["fields"][len(original) :]:  # ours, in later versions: optional, so old records read alike
        assert added["type"][0] == "null" and added["default"] is None, added
    for field in schema["fields"]:
        if field["name"] == "id":
            assert field["type"] == {"type": "fixed", "name": "Uuid", "size": 16}


def test_a_topology_naming_a_missing_schema_is_refused_with_its_name(tmp_path):
    path = tmp_path / "topology.toml"
    path.write_text('[topics.x]\npartitions = 1\nreplication_factor = 1\nrecords = ["NoSuchRecord"]\n')

    with pytest.raises(TopologyError, match="NoSuchRecord"):
        parse_topology(path)


def test_a_topic_without_partitions_is_refused(tmp_path):
    path = tmp_path / "topology.toml"
    path.write_text("[topics.x]\nreplication_factor = 1\n")

    with pytest.raises(TopologyError, match="partitions"):
        parse_topology(path)

"""sync_topology against the real broker and registry that `make test` starts.

Each test syncs a copy of the real topology whose topic names carry a unique prefix, so tests start
from an empty cluster of their own however often the suite has run before.
"""

import json
import re
import shutil
import uuid

import pytest
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
from confluent_kafka.serialization import MessageField, SerializationContext
from django.core.management import call_command
from django.core.management.base import CommandError

from kafka_bridge.wire.codecs import Codec, message_to_avro
from kafka_bridge.wire.messages import ConfirmMoneyTransfer
from kafka_bridge.wire.sync import TopologySync
from kafka_bridge.wire.topology import SCHEMAS_DIR, get_topology, parse_topology
from testing.confluent import confluent_deserializer, confluent_serializer

pytestmark = pytest.mark.integration

ORIGINAL_TOPOLOGY = (SCHEMAS_DIR.parent / "topology.toml").read_text()


@pytest.fixture
def prefix():
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def topology_file(tmp_path, prefix, settings):
    """The shipped topology with prefixed topic names, made the active one for management commands."""
    text = re.sub(r"^\[topics\.(\w+)\]", rf'[topics."{prefix}\1"]', ORIGINAL_TOPOLOGY, flags=re.MULTILINE)
    path = tmp_path / "topology.toml"
    path.write_text(text)
    shutil.copytree(SCHEMAS_DIR, tmp_path / "schemas")
    settings.KAFKA_TOPOLOGY_FILE = path
    get_topology.cache_clear()
    yield path
    get_topology.cache_clear()


def topic_names(admin, prefix):
    return {name for name in admin.list_topics(timeout=10).topics if name.startswith(prefix)}


def retention_of(admin, topic):
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return admin.describe_configs([resource])[resource].result(10)["retention.ms"].value


def test_a_first_sync_creates_the_topics_and_the_subjects(admin, registry, prefix, topology_file, capsys):
    call_command("sync_topology")

    metadata = admin.list_topics(timeout=10)
    created = sorted(topic_names(admin, prefix))
    assert created == [
        f"{prefix}{name}"
        for name in (
            "account_creation_feedback",
            "alert_rule_feedback",
            "alert_settings",
            "alerts",
            "alerts_dead_letter",
            "alerts_positions",
            "balance_changed",
            "command_handler_positions",
            "commands",
            "commands_dead_letter",
            "money_transfer_feedback",
            "projector_dead_letter",
        )
    ]
    for name in [f"{prefix}{n}" for n in ("account_creation_feedback", "balance_changed", "commands", "alerts")]:
        assert len(metadata.topics[name].partitions) == 24
        assert retention_of(admin, name) == "-1"
    # Asked one by one: the registry lists at most 1,000 subjects, and a test stack's registry keeps every run's.
    subjects = [subject for subject in parse_topology(topology_file).subjects() if registry.get_latest_version(subject)]
    assert len(subjects) == 13  # the original's seven and our six (version 1 of AlertTriggered kept, to be read)
    assert f"{prefix}commands-nl.openweb.data.ConfirmMoneyTransfer" in subjects
    assert {registry.get_compatibility(subject_name=subject) for subject in subjects} == {"FULL_TRANSITIVE"}
    assert "Done: " in capsys.readouterr().out


def test_a_second_sync_changes_nothing(topology_file, stack, capsys):
    call_command("sync_topology")
    capsys.readouterr()

    call_command("sync_topology")
    call_command("sync_topology", "--check")

    assert capsys.readouterr().out.count("Nothing to do") == 2


def test_check_finds_a_drifted_retention_and_a_sync_puts_it_back(admin, prefix, topology_file, capsys):
    call_command("sync_topology")
    topic = f"{prefix}balance_changed"
    drift = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET),
        ],
    )
    admin.incremental_alter_configs([drift])[drift].result(10)
    capsys.readouterr()

    with pytest.raises(SystemExit) as check:
        call_command("sync_topology", "--check")
    assert check.value.code == 1
    plan = capsys.readouterr().out
    assert f"alter config {topic} (retention.ms=-1, was 3600000)" in plan
    assert f"alter config {topic} (cleanup.policy back to default, was compact)" in plan

    call_command("sync_topology")

    assert retention_of(admin, topic) == "-1"
    call_command("sync_topology", "--check")


def test_dry_run_prints_the_plan_and_changes_nothing(admin, prefix, topology_file, capsys):
    call_command("sync_topology", "--dry-run")

    assert f"create topic {prefix}commands (24 partitions, replication 1, retention.ms=-1)" in capsys.readouterr().out
    assert topic_names(admin, prefix) == set()


def test_a_topic_with_too_few_partitions_gets_more(admin, prefix, topology_file):
    topic = f"{prefix}commands"
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1, config={"retention.ms": "-1"})])[
        topic
    ].result(10)

    call_command("sync_topology")

    assert len(admin.list_topics(topic, timeout=10).topics[topic].partitions) == 24


def test_prune_deletes_undeclared_topics_but_never_internal_ones(admin, prefix, topology_file, capsys):
    # Other tests' topics share this cluster: let this prune see only the topics of this test.
    topology_file.write_text(f'keep = ["^(?!{prefix})"]\n' + topology_file.read_text().replace('keep = ["^_"]', ""))
    get_topology.cache_clear()
    stray = f"{prefix}stray"
    admin.create_topics([NewTopic(stray, num_partitions=1, replication_factor=1)])[stray].result(10)
    call_command("sync_topology")
    assert stray in topic_names(admin, prefix)  # without --prune, strangers stay

    call_command("sync_topology", "--prune")

    assert stray not in topic_names(admin, prefix)
    output = capsys.readouterr().out
    assert f"delete topic {stray} (not in the topology)" in output
    assert "__consumer_offsets" not in output


def incompatible_copy(topology_file, record, change):
    """Change one schema next to the test topology and declare one more topic, so a sync has work to do."""
    path = topology_file.parent / "schemas" / f"{record}.avsc"
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema))
    topology_file.write_text(topology_file.read_text() + '\n[topics."extra"]\npartitions = 1\nreplication_factor = 1\n')
    get_topology.cache_clear()


def test_an_incompatible_schema_is_a_problem_and_the_rest_waits(admin, registry, prefix, topology_file):
    call_command("sync_topology")
    incompatible_copy(
        topology_file,
        "ConfirmMoneyTransfer",
        lambda schema: schema["fields"].append({"name": "currency", "type": "string"}),
    )

    plan = TopologySync(admin, registry, parse_topology(topology_file)).plan()

    [problem] = plan.problems
    assert problem.startswith(
        f"schema nl.openweb.data.ConfirmMoneyTransfer is not compatible with every version of subject "
        f"{prefix}commands-nl.openweb.data.ConfirmMoneyTransfer (its level: FULL_TRANSITIVE): "
    )
    assert "/fields/7" in problem  # the registry's own reason: where the new field without a default is
    assert [str(change) for change in plan.changes] == ["create topic extra (1 partitions, replication 1)"]


def test_the_command_refuses_an_incompatible_schema_and_changes_nothing(admin, prefix, topology_file, capsys):
    call_command("sync_topology")
    incompatible_copy(
        topology_file, "BalanceChanged", lambda schema: schema["fields"][1].update(type="string")
    )  # new_balance: long -> string

    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("sync_topology")

    refused = capsys.readouterr().err
    assert "BalanceChanged is not compatible with every version" in refused
    assert "not compatible with writer type: STRING at /fields/1/type" in refused  # the registry's reason
    assert "extra" not in admin.list_topics(timeout=10).topics


def test_a_field_removed_without_a_default_is_refused(admin, registry, prefix, topology_file):
    """BACKWARD, the registry's default, took it: a new reader reads old records, but an old reader (a process
    not yet upgraded, a rebuild by an older version) cannot read the new ones."""
    call_command("sync_topology")
    incompatible_copy(
        topology_file, "BalanceChanged", lambda schema: schema["fields"].pop(4)
    )  # description, which has no default

    plan = TopologySync(admin, registry, parse_topology(topology_file)).plan()

    assert plan.problems == [
        f"schema nl.openweb.data.BalanceChanged is not compatible with every version of subject "
        f"{prefix}balance_changed-nl.openweb.data.BalanceChanged (its level: FULL_TRANSITIVE): description at /fields/4"
    ]


def test_check_finds_a_subject_whose_level_was_changed_and_a_sync_puts_it_back(registry, prefix, topology_file, capsys):
    call_command("sync_topology")
    subject = f"{prefix}commands-nl.openweb.data.ConfirmMoneyTransfer"
    registry.set_compatibility(subject_name=subject, level="BACKWARD")
    capsys.readouterr()

    with pytest.raises(SystemExit) as check:
        call_command("sync_topology", "--check")
    assert check.value.code == 1
    assert f"set compatibility {subject} (BACKWARD -> FULL_TRANSITIVE)" in capsys.readouterr().out

    call_command("sync_topology")

    assert registry.get_compatibility(subject_name=subject) == "FULL_TRANSITIVE"


def test_a_subject_whose_versions_were_deleted_is_registered_again(registry, prefix, topology_file):
    """The registry looked such a subject up as a new version, then found no subject to test it against: the
    sync failed, and every command answered on that subject waited for good."""
    call_command("sync_topology")
    subject = f"{prefix}money_transfer_feedback-nl.openweb.data.MoneyTransferConfirmed"
    registry.delete_subject(subject)

    call_command("sync_topology")

    assert registry.get_latest_version(subject).schema_id
    assert registry.get_compatibility(subject_name=subject) == "FULL_TRANSITIVE"


def test_the_compatible_drill(registry, prefix, topology_file, capsys):
    """docs/design.md's drill for a compatible change, as an operator runs it: `--check` lists the new version, a
    sync registers it, `--check` is clean again, and processes of either version read each other's records."""
    call_command("sync_topology")
    this_version = Codec(registry, parse_topology(topology_file))
    path = topology_file.parent / "schemas" / "ConfirmMoneyTransfer.avsc"
    schema = json.loads(path.read_text())
    schema["fields"].append({"name": "channel", "type": ["null", "string"], "default": None, "doc": "version 3"})
    path.write_text(json.dumps(schema))
    get_topology.cache_clear()
    capsys.readouterr()

    with pytest.raises(SystemExit) as check:
        call_command("sync_topology", "--check")
    assert check.value.code == 1
    subject = f"{prefix}commands-nl.openweb.data.ConfirmMoneyTransfer"
    assert f"register schema {subject} (new version)" in capsys.readouterr().out
    call_command("sync_topology")
    call_command("sync_topology", "--check")  # in sync: no exit
    assert "Nothing to do" in capsys.readouterr().out

    topic = f"{prefix}commands"
    context = SerializationContext(topic, MessageField.VALUE)
    command = ConfirmMoneyTransfer(uuid.uuid4(), "1" * 20, 100, "cash", "NL66OPEN0000000000", "drill", "R-1")
    write_next = confluent_serializer(registry, json.dumps(schema))
    read_next = confluent_deserializer(registry, json.dumps(schema))

    assert this_version.decode(topic, write_next({**message_to_avro(command), "channel": "app"}, context)) == command
    assert read_next(this_version.encode(topic, command), context) == {**message_to_avro(command), "channel": None}

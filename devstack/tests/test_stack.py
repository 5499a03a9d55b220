from devstack.profiles import PROFILES
from devstack.stack import forget_data


def test_forgetting_a_stacks_data_keeps_its_certificates_and_logs(tmp_path):
    for folder in ("kafka/data", "postgres/base", "redis", "registry/h2", "tls", "logs"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "file").write_text("x")
    (tmp_path / "kafka-cluster-id").write_text("id")

    forget_data(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "tls"]


def test_only_the_load_tests_stack_starts_from_empty_data():
    assert [name for name, profile in PROFILES.items() if profile.fresh_data] == ["loadtest"]

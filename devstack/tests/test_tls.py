"""Each process is given only its own principal's key: the folders devstack makes, what each process is told to
read, and what docker-compose mounts into each container. The authority's key is for making certificates only."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from devstack import tls
from devstack.__main__ import PRINCIPALS, application_specs
from devstack.profiles import PROFILES, PROJECT_ROOT


def test_each_principal_has_a_folder_with_its_own_key_and_nothing_of_anothers(tmp_path):
    tls.ensure_certificates(tmp_path)

    for principal in tls.PRINCIPALS:
        names = {path.name for path in (tmp_path / principal).iterdir()}
        assert names == {"ca.crt", f"{principal}.crt", f"{principal}.key", f"{principal}.pem", "client.properties"}
        assert (tmp_path / principal).stat().st_mode & 0o077 == 0
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("ca.key")) == ["authority/ca.key"]


def test_stacks_made_with_one_folder_for_every_key_move_to_a_folder_each(tmp_path):
    authority, key = tls.make_authority(tmp_path)
    (tmp_path / tls.AUTHORITY / "ca.key").rename(tmp_path / "ca.key")  # where it used to be
    (tmp_path / "web.key").write_text("an old key")
    first = (tmp_path / "ca.crt").read_bytes()

    tls.ensure_certificates(tmp_path)

    assert (tmp_path / "ca.crt").read_bytes() == first  # the same authority: certificates already handed out hold
    assert not (tmp_path / "ca.key").exists() and not (tmp_path / "web.key").exists()
    assert (tmp_path / "web" / "web.key").exists()


def test_each_process_of_the_cluster_is_told_only_of_its_own_folder():
    profile = PROFILES["cluster-test"]
    with socket.socket() as web:
        specs = application_specs(profile, {}, web)
    for spec in specs:
        principal = PRINCIPALS.get(spec.name.rsplit("-", 1)[0], "loadtest")
        paths = [value for key, value in spec.env.items() if key.startswith("KAFKA_SSL_")]
        assert paths and all(Path(p).parent == tls.own_folder(profile.tls_dir, principal) for p in paths), spec.name


def _tls_folder(volume: str | dict) -> str | None:
    """What of the `tls` volume a service's volume entry mounts: all of it ("/"), a principal's folder, or None."""
    if isinstance(volume, str):
        return "/" if volume.split(":")[0] == "tls" else None
    return volume.get("volume", {}).get("subpath", "/") if volume.get("source") == "tls" else None


def test_docker_compose_mounts_into_each_container_its_own_principals_folder_only():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    mounted = {
        name: folder
        for name, service in compose["services"].items()
        for folder in map(_tls_folder, service.get("volumes", []))
        if folder
    }

    assert mounted.pop("tls") == "/"  # the one-shot that makes the certificates, and alone holds the authority's key
    expected = {"kafka-1": "broker", "kafka-2": "broker", "kafka-3": "broker", "migrate": "admin"}
    apps = ("web", "command-handler", "projector", "alerts", "worker")
    assert mounted == expected | {name: PRINCIPALS.get(name, "loadtest") for name in apps}

"""A local certificate authority and one certificate per principal, made on a stack's first start.

PEM files, which Kafka 4 (`ssl.keystore.type=PEM`) and librdkafka both read, a folder per principal that is all
a process of it needs: `<principal>/ca.crt`, `<principal>.crt`, `<principal>.key`, `<principal>.pem` (key and
chain, for Kafka's keystore) and `client.properties` (for Kafka's own tools). Each process is given its own folder
only (docker-compose mounts nothing else); the authority's key, needed only to make certificates, stays in
`authority/`. Kafka takes the principal from the certificate's CN. The brokers' certificate names 127.0.0.1 and
localhost, so clients verify the broker they talk to.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BROKER = "broker"
ADMIN = "admin"
# Who each process of the application is to Kafka; anything else it runs (tools, tests) is the admin.
PRINCIPALS = (BROKER, ADMIN, "web", "command-handler", "projector", "alerts", "loadtest")
VALID_FOR = datetime.timedelta(days=3650)
AUTHORITY = "authority"  # the folder of the authority's key: no process of the application reads it


def own_folder(folder: Path, principal: str) -> Path:
    """Everything a process that is `principal` reads of the TLS folder."""
    return folder / principal


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Open Bank"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _certificate(
    subject: str, key, issuer_name: x509.Name, issuer_key, *, ca: bool = False, hosts: tuple[str, ...] = ()
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(h) for h in ("localhost", *hosts)] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_authority(
    folder: Path, name: str = "Open Bank local CA"
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(name, key, _name(name), key, ca=True)
    (folder / AUTHORITY).mkdir(mode=0o700, parents=True, exist_ok=True)
    (folder / "ca.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    _write_key(folder / AUTHORITY / "ca.key", key)
    return certificate, key


def issue(
    folder: Path, principal: str, authority: x509.Certificate, authority_key, hosts: tuple[str, ...] = ()
) -> None:
    """The folder of `principal`: the authority's certificate, its own certificate and key, both in one PEM (for
    Kafka's keystore), and the settings of Kafka's command-line tools."""
    own = own_folder(folder, principal)
    own.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(principal, key, authority.subject, authority_key, hosts=hosts)
    _write_key(own / f"{principal}.key", key)
    chain = certificate.public_bytes(serialization.Encoding.PEM) + authority.public_bytes(serialization.Encoding.PEM)
    (own / "ca.crt").write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    (own / f"{principal}.crt").write_bytes(chain)
    (own / f"{principal}.pem").write_bytes((own / f"{principal}.key").read_bytes() + chain)
    (own / f"{principal}.pem").chmod(0o600)
    (own / "client.properties").write_text(
        "security.protocol=SSL\nssl.keystore.type=PEM\n"
        f"ssl.keystore.location={own}/{principal}.pem\nssl.truststore.type=PEM\nssl.truststore.location={own}/ca.crt\n"
    )


def ensure_certificates(folder: Path, hosts: tuple[str, ...] = ()) -> Path:
    """Make the authority and every principal's certificate once; later starts reuse them. `hosts`: more names
    the brokers answer to (docker-compose's kafka-1, kafka-2, kafka-3)."""
    _move_from_one_folder(folder)
    if not (folder / "ca.crt").exists():
        authority, authority_key = make_authority(folder)
    else:
        authority = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
        authority_key = serialization.load_pem_private_key((folder / AUTHORITY / "ca.key").read_bytes(), password=None)
    for principal in PRINCIPALS:
        if not (own_folder(folder, principal) / f"{principal}.pem").exists():
            issue(folder, principal, authority, authority_key, hosts if principal == BROKER else ())
    return folder


def _move_from_one_folder(folder: Path) -> None:
    """Stacks made before there was a folder per principal kept every key in one: the authority's key moves to
    its own folder, and the principals' files go (their folders are made anew)."""
    if (folder / "ca.key").exists():
        (folder / AUTHORITY).mkdir(mode=0o700, parents=True, exist_ok=True)
        (folder / "ca.key").rename(folder / AUTHORITY / "ca.key")
    for path in [*folder.glob("*.key"), *folder.glob("*.pem"), folder / "admin-client.properties"]:
        path.unlink(missing_ok=True)
    for principal in PRINCIPALS:
        (folder / f"{principal}.crt").unlink(missing_ok=True)

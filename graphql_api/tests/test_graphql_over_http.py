"""The GraphQL-over-HTTP spec, as graphql-http's own audit reads it (Node; `make test` installs it)."""

import json
import subprocess

import pytest

from testing.live import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_graphql_http_finds_nothing_to_warn_about(bank):
    """It once gave 8 warnings, all on status codes for clients that accept application/graphql-response+json."""
    audit = subprocess.run(
        ["node", "testing/graphql_http_audit.mjs", bank.web + "/graphql"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    findings = [json.loads(line) for line in audit.stdout.splitlines()]

    assert len(findings) > 50
    assert [f"{f['status']} {f['id']}: {f['name']} ({f['reason']})" for f in findings if f["status"] != "ok"] == []

"""The company account the original's set-up script made (seed-inventory §5.2): seeded by a migration.

The original seeded it with a token of twenty zeros, which its published scripts print: anyone could
debit it. Here its token is random, made when the ledger is first migrated, and kept only in the ledger
(`manage.py company_account` shows it to an operator).
"""

import secrets

COMPANY = {
    "username": "open_web",
    "iban": "NL66OPEN0000000000",
    "balance_cents": 10**17,
    "limit_cents": -50_000,
}
PUBLISHED_TOKEN = "0" * 20  # the original's, known to everyone


def new_company_token() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(20))


def company_defaults() -> dict:
    return {**COMPANY, "token": new_company_token()}

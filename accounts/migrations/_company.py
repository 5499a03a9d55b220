"""The company account the original's set-up script made (seed-inventory §5.2): seeded by a migration."""

COMPANY = {
    "username": "open_web",
    "iban": "NL66OPEN0000000000",
    "token": "0" * 20,
    "balance_cents": 10**17,
    "limit_cents": -50_000,
}

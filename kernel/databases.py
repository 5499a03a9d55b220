"""The command side's database alias: the ledger, where balances change (settings.DATABASES; bankproject.routers
sends a model there when it declares `database = LEDGER`). The read model is Django's "default"."""

LEDGER = "ledger"

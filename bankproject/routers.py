"""Send command-side (ledger) models to the `ledger` database and everything else to `default`.

A model joins the command side by declaring `database = LEDGER` as a class attribute. The read side
never reads ledger tables: everything it knows came from a Kafka event.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

READ_SIDE = "default"


def database_of(model: type[models.Model]) -> str:
    return getattr(model, "database", READ_SIDE)


class CommandQueryRouter:
    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        return database_of(model)

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        return database_of(model)

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        return database_of(type(obj1)) == database_of(type(obj2))

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if "target_db" in hints:  # RunPython(..., hints={"target_db": "ledger"}) in data migrations
            return db == hints["target_db"]
        if model_name is None:
            return None
        try:
            # Migrations hand us historical models without our class attribute; ask the live registry.
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return db == READ_SIDE
        return db == database_of(model)

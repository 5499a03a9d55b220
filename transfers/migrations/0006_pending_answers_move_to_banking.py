"""PendingAnswer belongs to the bank as a whole now (banking): its table is renamed, its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("transfers", "0005_latest_transaction")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable("pendinganswer", "banking_pendinganswer")],
            state_operations=[migrations.DeleteModel("PendingAnswer")],
        )
    ]

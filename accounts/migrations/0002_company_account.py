"""Seed the company account, as the original's set-up script did (seed-inventory §5.2)."""

from django.db import migrations

from accounts.migrations._company import COMPANY, company_defaults


def create_company_account(apps, schema_editor):
    LedgerAccount = apps.get_model("accounts", "LedgerAccount")
    LedgerAccount.objects.using(schema_editor.connection.alias).get_or_create(
        iban=COMPANY["iban"], defaults=company_defaults()
    )


def remove_company_account(apps, schema_editor):
    LedgerAccount = apps.get_model("accounts", "LedgerAccount")
    LedgerAccount.objects.using(schema_editor.connection.alias).filter(iban=COMPANY["iban"]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(create_company_account, remove_company_account, hints={"target_db": "ledger"}),
    ]

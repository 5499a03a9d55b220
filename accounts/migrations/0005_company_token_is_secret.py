"""A ledger seeded with the original's published company token gets a random one."""

from django.db import migrations

from accounts.migrations._company import COMPANY, PUBLISHED_TOKEN, new_company_token


def replace_published_token(apps, schema_editor):
    LedgerAccount = apps.get_model("accounts", "LedgerAccount")
    LedgerAccount.objects.using(schema_editor.connection.alias).filter(
        iban=COMPANY["iban"], token=PUBLISHED_TOKEN
    ).update(token=new_company_token())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_customer_email_alter_customer_iban")]

    operations = [
        migrations.RunPython(replace_published_token, migrations.RunPython.noop, hints={"target_db": "ledger"}),
    ]

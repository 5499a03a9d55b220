"""manage.py company_account: the company account's IBAN, token and balance, for an operator."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.iban import COMPANY_IBAN
from accounts.models import LedgerAccount
from kernel.money import format_euro


class Command(BaseCommand):
    help = "Show the company account's token (a secret made when the ledger was first migrated) and balance."

    def handle(self, *args: object, **options: object) -> None:
        company = LedgerAccount.objects.filter(iban=COMPANY_IBAN).first()
        if company is None:
            raise CommandError(f"the ledger has no company account {COMPANY_IBAN}: run `manage.py migrate` first")
        self.stdout.write(f"iban     {company.iban}\nowner    {company.username}\ntoken    {company.token}")
        self.stdout.write(f"balance  {format_euro(company.balance_cents)}")

import factory

from accounts.iban import iban_for
from accounts.models import LedgerAccount


class LedgerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LedgerAccount

    username = factory.Sequence(lambda n: f"user{n}")
    iban = factory.Sequence(lambda n: iban_for(f"9{n:09d}"))
    token = factory.Sequence(lambda n: f"{n:020d}")
    balance_cents = 0

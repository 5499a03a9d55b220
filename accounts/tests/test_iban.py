import pytest

from accounts.iban import COMPANY_IBAN, iban_for, is_open_iban, new_iban, new_token


def test_the_company_iban_is_a_valid_open_iban():
    assert is_open_iban(COMPANY_IBAN)
    assert iban_for("0000000000") == COMPANY_IBAN


def test_new_ibans_are_valid_and_start_their_number_with_zero():
    for _ in range(200):
        iban = new_iban()
        assert is_open_iban(iban)
        assert iban[8] == "0"


@pytest.mark.parametrize(
    "value",
    [
        "NL67OPEN0000000000",  # wrong check digits
        "NL66OPEN000000000",  # too short
        "NL66OPEN00000000000",  # too long
        "NL66OPEN00000000a0",  # a letter where digits belong: the original crashed here
        "NL66OPEN00000000٠0",  # a non-ASCII digit
        "DE66OPEN0000000000",
        "cash",
        "",
    ],
)
def test_malformed_ibans_are_not_valid(value):
    assert not is_open_iban(value)


def test_tokens_are_20_digits():
    token = new_token()
    assert len(token) == 20 and token.isdigit()

import pytest

from pages.amounts import AmountError, parse_euros


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("11,11", 1111),
        ("11.11", 1111),
        ("10", 1000),
        ("0,29", 29),
        ("0.29", 29),
        ("€ 5,5", 550),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("0,295", 30),
        ("0,294", 29),
        ("12,3456", 1235),
        ("2,675", 267500),
    ],
)
def test_amounts_in_euros_become_cents_rounded_not_truncated(text, cents):
    assert parse_euros(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "0", "-5", "0,00", "10000000000"])
def test_nonsense_zero_negative_and_huge_amounts_are_refused(text):
    with pytest.raises(AmountError):
        parse_euros(text)

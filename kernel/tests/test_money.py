import pytest

from kernel.money import format_euro


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (1000, "€10,00"),
        (21078, "€210,78"),
        (123456, "€1.234,56"),
        (5, "€0,05"),
        (0, "€0,00"),
        (-500, "-€5,00"),
        (10**17, "€1.000.000.000.000.000,00"),
    ],
)
def test_amounts_read_like_the_original_nl_nl_format(cents, text):
    assert format_euro(cents) == text

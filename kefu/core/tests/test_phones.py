"""Chinese mobile numbers: what is accepted, how it is stored, how it is shown masked."""

from __future__ import annotations

import pytest

from kefu.core.phones import (
    InvalidPhone,
    digits_only,
    mask_mobile,
    mask_name,
    national_mobile,
    normalize_mobile,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "(138) 1234 5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "0086 138 1234 5678",
        "008613812345678",
        "8613812345678",
        "  13812345678  ",
        "１３８１２３４５６７８",  # full-width digits, as Chinese input methods type them
    ],
)
def test_every_usual_way_of_writing_a_mobile_is_stored_as_e164(raw: str) -> None:
    assert normalize_mobile(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("010-12345678", "Beijing landline"),
        ("02112345678", "Shanghai landline, 11 digits"),
        ("138123456789", "12 digits"),
        ("1381234567", "10 digits"),
        ("12812345678", "no mobile range starts with 12"),
        ("+85291234567", "Hong Kong"),
        ("+1 415 555 0100", "United States"),
        ("1381234ABCD", "letters are not keypad digits here"),
        ("13812345678 ext 12", "extension"),
        ("tel:+8613812345678", "URI"),
        ("138+12345678", "plus sign in the middle"),
        ("手机13812345678", "words around the number"),
    ],
)
def test_anything_but_a_mainland_mobile_is_rejected(raw: str, why: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_mobile(raw)
    assert caught.value.code == "invalid_phone"
    assert "手机号码" in caught.value.message, why


def test_a_rejected_number_is_named_in_the_chinese_message() -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_mobile("010-12345678")
    assert (
        caught.value.message == "“010-12345678”不是有效的中国大陆手机号码（11 位，以 13–19 开头）。"
    )


@pytest.mark.parametrize("raw", ["", "   ", " - "])
def test_a_blank_number_asks_for_one(raw: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_mobile(raw)
    assert caught.value.message == "请填写手机号码。"


def test_a_very_long_input_is_cut_short_in_the_message() -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_mobile("9" * 500)
    assert "9" * 41 not in caught.value.message


def test_national_mobile_drops_only_the_86_country_code() -> None:
    assert national_mobile("+8613812345678") == "13812345678"
    assert national_mobile("+85291234567") == "+85291234567"
    assert national_mobile("") == ""


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("", ""),
        ("+85291234567", "+8********67"),  # not mainland: first and last two only
        ("12345678", "12****78"),
        ("1234567", "*******"),  # too short to show any of it
        ("1234", "****"),
        ("7", "*"),
    ],
)
def test_mask_mobile_hides_the_middle_and_never_most_of_a_short_value(
    stored: str, shown: str
) -> None:
    assert mask_mobile(stored) == shown


@pytest.mark.parametrize(
    "stored", ["+85291234567", "123456789", "12345678", "1234567", "12345", "1234", "12"]
)
def test_a_masked_odd_value_never_shows_more_than_half_its_characters(stored: str) -> None:
    # given a stored value that is not an 11-digit mainland number (legacy or foreign data)
    # when
    masked = mask_mobile(stored)
    # then
    visible = [ch for ch in masked if ch != "*"]
    assert len(visible) * 2 <= len(masked)
    assert len(masked) == len(national_mobile(stored))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "*"),  # the first character of a one-character name is the whole name
        ("", ""),
        ("  张三  ", "张*"),
        ("John Smith", "J*********"),
    ],
)
def test_mask_name_keeps_only_the_first_character(name: str, shown: str) -> None:
    assert mask_name(name) == shown


def test_digits_only_keeps_digits_in_order() -> None:
    assert digits_only("+86 138-1234 5678") == "8613812345678"
    assert digits_only("张三") == ""

"""The views' shared helpers."""

from __future__ import annotations

import pytest

from kefu.web.helpers import form_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        ("1", 1),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),  # beyond a database id
        ("0", None),
        ("-3", None),
        ("", None),
        (None, None),
        ("12a", None),
        ("１２", 12),  # full-width digits, as a Chinese input method types them
    ],
)
def test_form_id_takes_database_ids_only(value: str | None, expected: int | None) -> None:
    assert form_id(value) == expected

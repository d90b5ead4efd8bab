"""Schema pieces shared by every router: the error shape, bounded ids, clean text."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field

from kefu.core.text import has_control_chars

MAX_ID = 2**63 - 1


def _no_control(value: str) -> str:
    if has_control_chars(value):
        raise ValueError("不能包含控制字符（如 NUL）")
    return value


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_control)
    ]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}

"""Schema pieces shared by every router: the error shape, bounded ids, clean text."""

from __future__ import annotations

from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    AfterValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kefu.core.text import has_control_chars

MAX_ID = 2**63 - 1


def _no_control(value: str) -> str:
    if has_control_chars(value):
        raise ValueError(_("不能包含控制字符。"))  # the message kefu.core.text.clean_text gives
    return value


def Text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_control)
    ]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class InputSchema(Schema):
    """A request body: a JSON object, nothing else.

    Ninja's Schema reads fields as attributes of whatever it is given (it is made for turning
    model instances into answers), so a body of ``[]``, ``"x"`` or ``1`` would pass as an object
    with every field missing: a PATCH with such a body answered 200 and changed nothing.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(values, dict):
            raise PydanticCustomError("dict_type", "必须是 JSON 对象。")
        return handler(values)


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}

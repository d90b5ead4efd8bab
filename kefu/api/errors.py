"""One error shape for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kefu.core.exceptions import ApplicationError

logger = logging.getLogger("kefu.api")


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    return JsonResponse(
        error_body(code, message, fields), status=status, json_dumps_params={"ensure_ascii": False}
    )


_SOURCES = ("body", "query", "path", "form", "file", "header", "cookie")
_WRAPPERS = ("payload", "filters", "form")


def _field_name(loc: list[Any]) -> str:
    # ("body", "payload", "name") → "name"; ("query", "page") → "page"; ("file", "files") →
    # "files"; ("form", "body") → "body" (a field may be named like a source); lists keep
    # their index
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in _WRAPPERS:
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or "__all__"


# pydantic's messages are English; every error type a request can produce gets a Chinese one
# (gettext_noop so that makemessages collects them for the English catalogue).
_PYDANTIC_MESSAGES = {
    "missing": gettext_noop("此项为必填项。"),
    "string_too_long": gettext_noop("内容过长。"),
    "string_too_short": gettext_noop("内容过短。"),
    "string_type": gettext_noop("必须是文本。"),
    "string_unicode": gettext_noop("必须是有效的 UTF-8 文本。"),
    "int_parsing": gettext_noop("必须是整数。"),
    "int_parsing_size": gettext_noop("数值过大。"),
    "int_from_float": gettext_noop("必须是整数。"),
    "int_type": gettext_noop("必须是整数。"),
    "finite_number": gettext_noop("必须是整数。"),
    "float_parsing": gettext_noop("必须是数字。"),
    "float_type": gettext_noop("必须是数字。"),
    "less_than_equal": gettext_noop("数值过大。"),
    "greater_than_equal": gettext_noop("数值过小。"),
    "literal_error": gettext_noop("取值不在允许范围内。"),
    "enum": gettext_noop("取值不在允许范围内。"),
    "bool_parsing": gettext_noop("必须是 true 或 false。"),
    "bool_type": gettext_noop("必须是 true 或 false。"),
    "model_attributes_type": gettext_noop("必须是 JSON 对象。"),
    "model_type": gettext_noop("必须是 JSON 对象。"),
    "dict_type": gettext_noop("必须是 JSON 对象。"),
    "list_type": gettext_noop("必须是列表。"),
    "none_required": gettext_noop("必须为空（null）。"),
    "extra_forbidden": gettext_noop("不允许的字段。"),
}


def _pydantic_message(error: dict[str, Any]) -> str:
    known = _PYDANTIC_MESSAGES.get(str(error.get("type", "")))
    if known:
        return _(known)
    if error.get("type") == "value_error":
        # our own validators raise ValueError with a Chinese message; pydantic prefixes it
        return str(error.get("msg", "")).removeprefix("Value error, ")
    # never pydantic's English text: clients show these messages to people
    logger.info("no Chinese message for pydantic error type %r", error.get("type"))
    return _("取值无效。")


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            fields.setdefault(_field_name(list(error.get("loc", []))), []).append(
                _pydantic_message(error)
            )
        return error_response(422, "invalid", _("提交的内容有误，请检查标出的字段。"), fields)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(401, "unauthenticated", _("请先登录：缺少或无效的访问令牌。"))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        if status == 400:
            return error_response(400, "malformed", _("请求内容无法解析，请发送有效的 JSON。"))
        if status == 401:
            return error_response(401, "unauthenticated", _("请先登录：缺少或无效的访问令牌。"))
        if status == 403:
            return error_response(403, "forbidden", _("您没有执行此操作的权限。"))
        if status == 429:
            return error_response(429, "throttled", _("请求过于频繁，请稍后再试。"))
        return error_response(status, "error", str(exc))

    @api.exception_handler(ApplicationError)
    def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", _("请求的对象不存在。"))

    @api.exception_handler(PermissionDenied)
    def on_403(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403, "forbidden", _("您没有执行此操作的权限。"))

    # A multipart upload (ticket attachments) that Django cannot read: a missing boundary, a
    # cut-off body, more files or fields than DATA_UPLOAD_MAX_NUMBER_FILES / _FIELDS allow.
    @api.exception_handler(MultiPartParserError)
    def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return error_response(
            400, "malformed", _("请求内容无法解析，请发送有效的 multipart/form-data。")
        )

    @api.exception_handler(TooManyFilesSent)
    def on_too_many_files(request: HttpRequest, exc: TooManyFilesSent) -> HttpResponse:
        return error_response(
            400,
            "too_many_files",
            _("一次最多上传 %(n)d 个文件。") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FILES},
        )

    @api.exception_handler(TooManyFieldsSent)
    def on_too_many_fields(request: HttpRequest, exc: TooManyFieldsSent) -> HttpResponse:
        return error_response(400, "malformed", _("提交的字段过多。"))

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(400, "malformed", _("请求内容过大。"))

    @api.exception_handler(DjangoValidationError)
    def on_model_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return error_response(422, "invalid", _("提交的内容有误，请检查标出的字段。"), fields)

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return error_response(500, "server_error", _("服务器内部错误，已记录，请稍后重试。"))

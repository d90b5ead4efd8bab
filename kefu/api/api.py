"""The REST API under /api/v1/: one NinjaAPI, one router per context, one error shape."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Schema
from ninja.renderers import JSONRenderer
from ninja.throttling import AnonRateThrottle

from kefu.api.auth import AuthedRequest, BearerToken
from kefu.api.errors import error_response, install_error_handlers
from kefu.api.output import JSON_DUMPS_PARAMS
from kefu.api.schemas import ERRORS, InputSchema, Text
from kefu.api.tokens import token_issue
from kefu.core.exceptions import ApplicationError
from kefu.org.models import User
from kefu.org.roles import user_role_codes


class ReadableJSONRenderer(JSONRenderer):
    json_dumps_params = JSON_DUMPS_PARAMS  # Chinese stays readable in answers and logs


def _answer_405_in_the_error_shape(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    @functools.wraps(view)  # keeps Ninja's csrf_exempt mark
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        answer = error_response(
            405,
            "method_not_allowed",
            _("此接口不支持 %(method)s 请求方法。") % {"method": str(request.method)[:20]},
        )
        answer["Allow"] = response["Allow"]
        return answer

    return wrapper


class KefuAPI(NinjaAPI):
    """Ninja answers a method a path does not take with a bare text/html 405 that bypasses the
    exception handlers; wrap each path's view so that it, too, is the one error shape."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = _answer_405_in_the_error_shape(url.callback)
        return urls


api = KefuAPI(
    title="Kefu 客服中心系统 API",
    version="1",
    description=(
        "客服中心系统接口。先用 `POST /api/v1/auth/token` 换取令牌，其后每个请求带 "
        "`Authorization: Bearer <token>`。错误统一为 "
        '`{"error": {"code", "message", "fields"}}`。列表返回 `{"items", "count"}`，'
        "分页参数 `page` / `page_size`（每页最多 100 条）。"
    ),
    auth=BearerToken(),
    renderer=ReadableJSONRenderer(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)

auth_router = Router(tags=["auth"])


class TokenIn(InputSchema):
    username: Text(150, 1)  # type: ignore[valid-type]
    password: Text(200, 1)  # type: ignore[valid-type]


class TokenOut(Schema):
    token: str


@auth_router.post(
    "/token",
    auth=None,
    response={200: TokenOut, **ERRORS},
    throttle=[AnonRateThrottle("30/m")],
    summary="用户名密码换取访问令牌",
)
def token_create(request: HttpRequest, payload: TokenIn) -> TokenOut:
    user = authenticate(request, username=payload.username, password=payload.password)
    if not isinstance(user, User):  # the failure is audited by the user_login_failed receiver
        raise ApplicationError(_("用户名或密码错误。"), code="bad_credentials", status=401)
    return TokenOut(token=token_issue(user=user))


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    is_superuser: bool


@api.get("/me", response={200: MeOut, **ERRORS}, tags=["auth"], summary="当前用户")
def me(request: AuthedRequest) -> MeOut:
    user = request.auth
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        roles=user_role_codes(user),
        is_superuser=user.is_superuser,
    )


api.add_router("/auth/", auth_router)
api.add_router("/customers", "kefu.customers.api.router")
api.add_router("/orders", "kefu.orders.api.router")
api.add_router("/tiers", "kefu.tiering.api.router")
api.add_router("/credit", "kefu.credit.api.router")
api.add_router("/privacy", "kefu.customers.api_privacy.router")
api.add_router("/calls", "kefu.calls.api.router")
api.add_router("/routing", "kefu.routing.api.router")
api.add_router("/tickets", "kefu.desk.api.router")
api.add_router("/tickets", "kefu.workspace.api.router")
api.add_router("/", "kefu.dispatch.api.router")
api.add_router("/kpis", "kefu.analytics.api.router")
api.add_router("/reports", "kefu.reports.api.router")
api.add_router("/dashboard", "kefu.dashboard.api.router")

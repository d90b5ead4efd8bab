"""The REST API under /api/v1/: one NinjaAPI, one router per context, one error shape."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Schema
from ninja.renderers import JSONRenderer
from ninja.throttling import AnonRateThrottle

from kefu.api.auth import AuthedRequest, BearerToken
from kefu.api.errors import install_error_handlers
from kefu.api.schemas import ERRORS, Text
from kefu.api.tokens import token_issue
from kefu.core.exceptions import ApplicationError
from kefu.org.models import User
from kefu.org.roles import user_role_codes


class ReadableJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Chinese stays readable in answers and logs


api = NinjaAPI(
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


class TokenIn(Schema):
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

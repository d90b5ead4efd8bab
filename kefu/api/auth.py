from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from kefu.api.tokens import token_user
from kefu.org.models import User


class AuthedRequest(HttpRequest):
    auth: User
    user: User


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_user(token)
        if user is None:
            return None
        request.user = user  # so has_perm and the access helpers see the API caller
        return user

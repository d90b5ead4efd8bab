"""Errors raised by services and mapped to HTTP once, at the edge (API handler, htmx views)."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule said no. ``code`` is stable for clients, ``message`` is for people.

    ``status`` is the HTTP status the edge answers with: 400/422 invalid input, 403 forbidden,
    404 not found, 409 conflict (e.g. a duplicate or a forbidden state transition).
    """

    code = "invalid"
    status = 422

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        self.extra = extra or {}


class NotFound(ApplicationError):
    code = "not_found"
    status = 404


class Forbidden(ApplicationError):
    code = "forbidden"
    status = 403


class Conflict(ApplicationError):
    code = "conflict"
    status = 409

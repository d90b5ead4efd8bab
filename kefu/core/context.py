"""Who is asking, from where: set once per request by the middleware, read by the audit log.

A context variable keeps services free of request objects while still recording the caller's
address on every audit event. Jobs and commands run with the empty context (address unknown).

It also carries the request's memo: values read once per request from the shared cache (the
permissions version, say) instead of once per use. Jobs and commands have no memo, so they
always read afresh.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""
    channel: str = "system"  # web, api, system (commands and jobs)
    memo: dict[str, Any] | None = None  # this request's memo; None outside requests


_current: ContextVar[RequestMeta] = ContextVar(
    "kefu_request_meta",
    default=RequestMeta(),  # noqa: B039 (frozen dataclass: immutable)
)


def current_request_meta() -> RequestMeta:
    return _current.get()


def request_memo() -> dict[str, Any] | None:
    """The current request's memo (a dict that lives as long as the request), or None in a job
    or command, where nothing is memoised."""
    return _current.get().memo


def set_request_meta(meta: RequestMeta) -> object:
    return _current.set(meta)


def reset_request_meta(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]

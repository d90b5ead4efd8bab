from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from ninja import Schema
from pydantic import Field

M = TypeVar("M", bound=Model)

MAX_PAGE = 100_000


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="页码，从 1 开始")
    page_size: int = Field(
        20, ge=1, le=settings.API_MAX_PAGE_SIZE, description="每页条数，最大 100"
    )


def paginate(queryset: QuerySet[M], *, page: int, page_size: int) -> tuple[list[M], int]:
    """One page of rows and the total, with one COUNT for the whole filter (not per row).

    A short first page tells the total without counting.
    """
    offset = (page - 1) * page_size
    items = list(queryset[offset : offset + page_size])
    if page == 1 and len(items) < page_size:
        return items, len(items)
    return items, queryset.count()

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.core.exceptions import Forbidden
from kefu.customers.access import customers_for_user
from kefu.org.models import User


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context: dict[str, Any] = {"can_see_customers": user.has_perm("customers.view_customer")}
    if context["can_see_customers"]:
        try:
            customers = customers_for_user(user)
        except Forbidden:
            customers = None
        if customers is not None:
            by_kind = dict(customers.values_list("kind").annotate(n=Count("id")).order_by())
            regions = list(
                customers.exclude(region="")
                .values("region")
                .annotate(n=Count("id"))
                .order_by("-n")[:10]
            )
            context.update(
                customer_total=sum(by_kind.values()),
                company_total=by_kind.get("company", 0),
                person_total=by_kind.get("person", 0),
                region_chart={
                    "labels": [row["region"] for row in regions],
                    "values": [row["n"] for row in regions],
                },
            )
    return render(request, "web/home.html", context)

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from ninja.responses import NinjaJSONEncoder

from kefu.api.api import api


def test_committed_openapi_document_matches_the_code() -> None:
    # given the document committed for API consumers
    committed = json.loads((Path(settings.BASE_DIR) / "docs" / "api" / "openapi.json").read_text())
    # when the code's schema is exported now
    current = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    # then they agree (run `make schema` after changing the API)
    assert current == committed


def test_openapi_document_is_served_without_authentication(client: object) -> None:
    from django.test import Client

    assert isinstance(client, Client)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/customers" in response.json()["paths"]

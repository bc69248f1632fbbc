"""The OpenAPI schema and the offline docs page."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

WRITE_METHODS = {"post", "put", "patch", "delete"}


@pytest.fixture
def schema(db, rw) -> dict:
    response = rw.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


def test_schema_yaml_and_json(db, rw):
    response = rw.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")
    response = rw.get("/api/schema/", {"format": "json"})
    assert json.loads(response.content)["info"]["title"]


def test_schema_without_credentials(db):
    response = APIClient().get("/api/schema/")
    assert response.status_code in (200, 401)


def test_docs_page_is_offline(db, rw):
    response = rw.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, html[:500]
    remote = [a for a in assets if a.startswith(("http://", "https://", "//"))]
    assert not remote, remote
    assert not re.search(r"https?://[^\s\"']+\.(?:js|css)", html)


def router_paths() -> set[str]:
    """Every /api/v1/ path the URL conf routes, in OpenAPI form."""
    out = set()

    def visit(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                visit(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                full = prefix + str(p.pattern)
                if full.startswith("^api/v1/") or full.startswith("api/v1/"):
                    if r"\.(?P<format>" in full:
                        continue
                    path = "/" + full.replace("^", "").replace("$", "")
                    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", "{}", path)
                    out.add(path)

    visit(get_resolver().url_patterns, "")
    return out


def test_every_routed_path_is_in_schema(schema):
    routed = router_paths()
    assert len(routed) > 10, routed
    documented = {re.sub(r"\{\w+\}", "{}", path) for path in schema["paths"]}
    missing = routed - documented
    assert not missing, missing


@pytest.mark.parametrize("code", ["400", "401", "403", "409", "412"])
def test_every_write_operation_documents_errors(schema, code):
    lacking = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in WRITE_METHODS and code not in op.get("responses", {})
    ]
    assert not lacking, lacking


def test_write_posts_document_idempotency_key(schema):
    lacking = [
        path
        for path, item in schema["paths"].items()
        if "post" in item and not any(p["name"] == "Idempotency-Key" for p in item["post"].get("parameters", []))
    ]
    assert not lacking, lacking


def test_schema_has_api_key_security(schema):
    assert "ApiKey" in schema["components"]["securitySchemes"]

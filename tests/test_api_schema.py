"""Schemathesis against the dashboard's OpenAPI schema on the small SYNTHETIC demo world: no 5xx.

Property-based: for every operation in ``/openapi.json``, Hypothesis generates valid and invalid query and
path parameters (bounded to a few examples per operation so the run stays short) and every response
must not be a server error, must use a documented status code and (for JSON) match its schema.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
import schemathesis.checks as _checks  # noqa: E402

_checks.load_all_checks()
#: Every built-in check, like ``schemathesis run --checks all`` (issue 15).
ALL_CHECKS = list(_checks.CHECKS.get_all())

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, demo_copy):
    from tradepulse.web.app import create_app
    from tradepulse.web.testing import demo_site

    wh, url = demo_site(demo_copy(tmp_path_factory.mktemp("schema")))
    app = create_app(wh, url, "schema-test")
    # the first computation starts the worker process (the fork server imports the web modules once, which
    # can take longer than schemathesis' 10 s request timeout on a loaded machine): start it here
    from fastapi.testclient import TestClient
    assert TestClient(app).get("/api/v1/tables/targets").status_code == 200
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations(api_schema):
    return [r.ok() for r in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_has_no_server_errors(api_schema, mode):
    """Every operation, valid (positive) and invalid (negative) inputs, every built-in check (``--checks
    all``): no 5xx, documented status codes and content types, JSON bodies matching the schema, invalid data
    rejected.  ``max_examples`` is small and ``derandomize`` makes runs repeatable."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable

    checks = ALL_CHECKS
    gen = schemathesis.GenerationMode(mode)
    ran = []
    for op in _operations(api_schema):
        @given(case=op.as_strategy(generation_mode=gen))
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(checks=checks)
        try:
            run()
            ran.append(op.path)
        except Unsatisfiable:
            # an operation without parameters has no invalid input to generate
            assert mode == "negative" and op.path in ("/api/v1/tables", "/api/v1/datasets"), op.path
    assert {"/api/v1/tables/trade", "/api/v1/tables/diversification", "/download/{name}.{fmt}"} <= set(ran)


def test_schema_covers_the_table_endpoints(api_schema):
    ops = {f"{op.method.upper()} {op.path}" for op in _operations(api_schema)}
    from tradepulse.web.data import TABLES
    assert {"GET /api/v1/tables", "GET /download/{name}.{fmt}"} <= ops
    assert {f"GET /api/v1/tables/{name}" for name in TABLES} <= ops          # one typed path per table

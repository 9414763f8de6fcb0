"""Emulator fuzz: every route, sent a set of malformed bodies (not an object, not JSON, each field of the
method's request schema with a value of the wrong JSON type, nested ones, and the bodies that crashed it
before), in a project where every resource the routes name exists, so handlers get as far as reading the
body. Not one answer may be a 5xx; a malformed body is the client's error, answered 400. The one 5xx by
design is Google's 501 UNIMPLEMENTED of a method the emulator does not model (issue 15's honest error,
whatever the body): counted apart, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from reliability_kit import MARKS, tally

from gcp_setup import defaults
from gcp_setup.emulator.core import discovery
from gcp_setup.emulator.core.routes import Route

pytestmark = MARKS

PROJECT = "fuzz-project-1"
KEY_ID = f"{defaults.API_KEY_ID_PREFIX}1"
KNOWN_CRASHERS: list[Any] = [
    {"projectId": 123},
    {"bindings": "x"},
    {"policy": {"bindings": "x"}},
    {"policy": {"bindings": [{"role": 1, "members": "m"}]}},
    {"serviceIds": "abc"},
    {"generationConfig": {"maxOutputTokens": "abc"}},
    {"messages": "hi"},
    {"messages": [1, 2], "model": 5},
    {"contents": "x"},
    {"contents": [{"parts": "x"}]},
    {"contents": [{"parts": [{"text": 5}]}]},
    {"permissions": "resourcemanager.projects.get"},
    {"names": 5},
    {"keyString": ["x"]},
    {"restrictions": {"apiTargets": "x"}},
    {"accountId": ["x"], "serviceAccount": "x"},
    {"grant_type": 5, "assertion": {}},
]
GENERIC = ["[]", '"x"', "123", "null", "{", "true", '{"a": {"b": [1, {"c": null}]}}']


def wrong(spec: dict[str, Any]) -> Any:
    """A value of a JSON type the field does not take."""
    return 12345 if spec.get("type") == "string" else "not-the-right-type"


def schema_bodies(route: Route) -> list[Any]:
    name = discovery.method(route.api_version, route.method_id).request_schema if route.api_version else None
    if name is None:
        return []
    schemas = discovery.schemas(route.api_version)
    properties = schemas.get(name, {}).get("properties", {})
    bodies: list[Any] = [{field: wrong(spec) for field, spec in properties.items()}]
    for field, spec in list(properties.items())[:12]:
        bodies.append({field: wrong(spec)})
        nested = schemas.get(spec.get("$ref", ""), {}).get("properties", {})
        bodies += [{field: {sub: wrong(s)}} for sub, s in list(nested.items())[:4]]
    return bodies


@pytest.fixture
def fuzz_world(world, emu):
    """The project the routes name, with billing, its APIs, the service account and the API key."""
    from gcp_setup.emulator.apikeys.models import ApiKeysBackend
    from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
    from gcp_setup.emulator.iam.models import ServiceAccountsBackend
    from gcp_setup.emulator.resourcemanager.models import ProjectsBackend
    from gcp_setup.emulator.serviceusage.models import ServicesBackend

    with world.lock:
        project = world.backend(ProjectsBackend).create(PROJECT, owner=world.default_caller)
        world.backend(BillingBackend).link(project, OPEN_ACCOUNT)
        for service in (*defaults.SERVICES, "iamcredentials.googleapis.com", "sts.googleapis.com"):
            world.backend(ServicesBackend).enable(project, service)
        account = world.backend(ServiceAccountsBackend).create(project, defaults.SERVICE_ACCOUNT_ID)
        key = world.backend(ApiKeysBackend).create(project, KEY_ID, {}, account)  # an auth key
    return key.key_string


def url_of(emu_url: str, app: Any, route: Route, email: str) -> str:
    values = {
        "projectsId": PROJECT,
        "projectId": PROJECT,
        "serviceAccountsId": email,
        "keysId": KEY_ID,
        "locationsId": "global",
        "servicesId": defaults.GENERATIVE_LANGUAGE_API,
        "serviceName": defaults.GENERATIVE_LANGUAGE_API,
        "operationsId": "fuzz",
        "billingAccountsId": "000000-AAAAAA-000001",
        "model": "gemini-2.5-flash",
        "modelsId": "gemini-2.5-flash",
        "publishersId": "google",
        "endpointsId": "openapi",
        "resource": f"projects/{PROJECT}",
        "rolesId": "aiplatform.user",
        "workloadIdentityPoolsId": "pool",
        "providersId": "provider",
        "v1Id": "x",
        "v1Id1": "y",
        "version": "v1beta",
    }
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint is route)
    wanted = {name: values.get(name, "x") for name in rule.arguments}
    return emu_url + app.url_map.bind("emulator").build(route, wanted, method=route.http_method)


def is_not_emulated(answer: requests.Response) -> bool:
    """Google's 501 UNIMPLEMENTED for a method the emulator does not model (core.routes.not_emulated)."""
    if answer.status_code != 501:
        return False
    error = answer.json()
    error = error[0] if isinstance(error, list) else error
    return error.get("error", {}).get("status") == "UNIMPLEMENTED"


def test_no_route_answers_a_malformed_body_with_a_5xx(_emulator_server, emu, fuzz_world):
    app = _emulator_server.app
    email = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    sent, not_emulated, failures = 0, 0, []
    session = requests.Session()
    for route in sorted(routes, key=lambda r: (r.rule, r.http_method)):
        url = url_of(emu.url, app, route, email)
        bodies = [*GENERIC, *(json.dumps(b) for b in [*KNOWN_CRASHERS, *schema_bodies(route)])]
        for body in bodies:
            answer = session.request(
                route.http_method,
                url,
                data=body,
                headers={"Content-Type": "application/json", "x-goog-api-key": fuzz_world},
                timeout=30,
            )
            sent += 1
            if is_not_emulated(answer):
                not_emulated += 1
            elif answer.status_code >= 500:
                failures.append(f"{route.http_method} {route.rule} {body[:80]} -> {answer.status_code}")
    tally.add("fuzz", requests=sent, answers_5xx=len(failures), not_emulated_501=not_emulated)
    assert failures == [], "\n".join(failures[:40])

"""An API key's application restrictions (browser, server, Android, iOS), each enforced with Google's 403
reason on every data-plane path: the Gemini API v1 and v1beta (generate, stream, count), its OpenAI-compatible
endpoint, and Vertex AI express mode (google-genai and the openai library), plus plain HTTP and curl."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from fidelity.kit import GEMINI, MODEL, VERTEX, auth_key, from_genai, from_openai, scenario
from fidelity.target import Answer, Target

RESTRICTIONS = {
    "referrer": (
        {"browserKeyRestrictions": {"allowedReferrers": ["https://app.example.com/*"]}},
        {"Referer": "https://app.example.com/page"},
        {"Referer": "https://evil.example.net/"},
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "4.referrer",
    ),
    "ip": (
        {"serverKeyRestrictions": {"allowedIps": ["10.0.0.0/8"]}},
        None,  # the emulator sees 127.0.0.1: no header makes a call come from 10.x
        {},
        "API_KEY_IP_ADDRESS_BLOCKED",
        "4.ip",
    ),
    "android": (
        {
            "androidKeyRestrictions": {
                "allowedApplications": [
                    {"packageName": "com.example.app", "sha1Fingerprint": "DA:39:A3:EE:5E:6B:4B:0D:32:55"}
                ]
            }
        },
        {"X-Android-Package": "com.example.app", "X-Android-Cert": "da39a3ee5e6b4b0d3255"},
        {"X-Android-Package": "com.example.other", "X-Android-Cert": "da39a3ee5e6b4b0d3255"},
        "API_KEY_ANDROID_APP_BLOCKED",
        "4.android",
    ),
    "ios": (
        {"iosKeyRestrictions": {"allowedBundleIds": ["com.example.ios"]}},
        {"X-Ios-Bundle-Identifier": "com.example.ios"},
        {"X-Ios-Bundle-Identifier": "com.example.other"},
        "API_KEY_IOS_APP_BLOCKED",
        "4.ios",
    ),
}


def _genai(t: Target, key: str, headers: dict[str, str], *, vertex: bool = False, version: str = "v1beta"):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        base_url=t.base("aiplatform" if vertex else "generativelanguage"),
        api_version="v1beta1" if vertex else version,
        headers=headers,
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    return genai.Client(vertexai=vertex, api_key=key, http_options=options)


def _openai(t: Target, key: str, headers: dict[str, str], *, vertex: bool = False):
    import openai

    base = (
        f"{t.base('aiplatform')}/v1/endpoints/openapi"
        if vertex
        else f"{t.base('generativelanguage')}/v1beta/openai/"
    )
    return openai.OpenAI(base_url=base, api_key=key, max_retries=0, default_headers=headers)


def _via_genai(call: Callable[[Any], Any], **client: Any) -> Callable[[Target, str, dict[str, str]], Answer]:
    def run(t: Target, key: str, headers: dict[str, str]) -> Answer:
        from google.genai import errors

        try:
            call(_genai(t, key, headers, **client))
        except errors.APIError as exc:
            return from_genai(exc)
        return Answer(200, {})

    return run


def _via_openai(vertex: bool) -> Callable[[Target, str, dict[str, str]], Answer]:
    def run(t: Target, key: str, headers: dict[str, str]) -> Answer:
        import openai

        model = f"google/{MODEL}" if vertex else MODEL
        try:
            _openai(t, key, headers, vertex=vertex).chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}]
            )
        except openai.APIStatusError as exc:
            return from_openai(exc)
        return Answer(200, {})

    return run


def _via_http(t: Target, key: str, headers: dict[str, str]) -> Answer:
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    return t.call(
        "POST",
        "generativelanguage",
        f"v1beta/models/{MODEL}:countTokens",
        body,
        auth=False,
        headers={"x-goog-api-key": key, **headers},
    )


def _via_curl(t: Target, key: str, headers: dict[str, str]) -> Answer:
    url = f"{t.base('generativelanguage')}/v1beta/models/{MODEL}:generateContent"
    command = ["curl", "-sS", "-w", "\n%{http_code}", "-H", "Content-Type: application/json"]
    command += ["-H", f"x-goog-api-key: {key}", *[a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]]
    command += ["-d", json.dumps({"contents": [{"parts": [{"text": "hi"}]}]}), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
    body, _, status = out.rpartition("\n")
    return Answer(int(status), json.loads(body))


def _stream(client: Any) -> None:
    for _ in client.models.generate_content_stream(model=MODEL, contents="hi"):
        pass


PATHS: dict[str, tuple[str, Callable[[Target, str, dict[str, str]], Answer]]] = {
    "gemini-v1beta-generate": (
        "genai",
        _via_genai(lambda c: c.models.generate_content(model=MODEL, contents="hi")),
    ),
    "gemini-v1-generate": (
        "genai",
        _via_genai(lambda c: c.models.generate_content(model=MODEL, contents="hi"), version="v1"),
    ),
    "gemini-stream": ("genai", _via_genai(_stream)),
    "gemini-count-tokens": ("http", _via_http),
    "gemini-openai-chat": ("openai", _via_openai(vertex=False)),
    "vertex-express-generate": (
        "genai",
        _via_genai(lambda c: c.models.generate_content(model=MODEL, contents="hi"), vertex=True),
    ),
    "vertex-express-openai-chat": ("openai", _via_openai(vertex=True)),
    "gemini-curl": ("curl", _via_curl),
}


def _blocked_params() -> list[Any]:
    return [
        pytest.param(kind, path, marks=scenario(PATHS[path][0], RESTRICTIONS[kind][4]), id=f"{kind}-{path}")
        for kind in RESTRICTIONS
        for path in PATHS
    ]


@pytest.mark.parametrize(("kind", "path"), _blocked_params())
def test_a_restricted_key_is_blocked(t: Target, snapshot, kind: str, path: str) -> None:
    restrictions, _, wrong, reason, _ = RESTRICTIONS[kind]
    targets = {"apiTargets": [{"service": GEMINI}, {"service": VERTEX}]}
    _, key = auth_key(t, {**restrictions, **targets})
    answer = PATHS[path][1](t, key, wrong)
    assert answer.status == 403 and answer.error["status"] == "PERMISSION_DENIED", answer.body
    assert answer.reason == reason
    snapshot.match("answer", answer.shape())


def _allowed_params() -> list[Any]:
    paths = ("gemini-v1beta-generate", "gemini-openai-chat", "vertex-express-generate")
    return [
        pytest.param(kind, path, marks=scenario(PATHS[path][0], RESTRICTIONS[kind][4]), id=f"{kind}-{path}")
        for kind in ("referrer", "android", "ios")
        for path in paths
    ]


@pytest.mark.parametrize(("kind", "path"), _allowed_params())
def test_a_restricted_key_works_from_where_it_allows(t: Target, kind: str, path: str) -> None:
    restrictions, allowed, _, _, _ = RESTRICTIONS[kind]
    _, key = auth_key(t, {**restrictions, "apiTargets": [{"service": GEMINI}, {"service": VERTEX}]})
    answer = PATHS[path][1](t, key, allowed)
    assert answer.status == 200, answer.body


@scenario("genai", "4.ip")
@pytest.mark.parametrize("allowed", ["127.0.0.1", "127.0.0.0/8", "::1/128,127.0.0.1"])
def test_a_key_limited_to_the_callers_address_works(t: Target, allowed: str) -> None:
    t.emulator_only()  # on Google the caller's address is the maintainer's, not loopback
    restrictions = {"serverKeyRestrictions": {"allowedIps": allowed.split(",")}}
    _, key = auth_key(t, {**restrictions, "apiTargets": [{"service": GEMINI}]})
    answer = PATHS["gemini-v1beta-generate"][1](t, key, {})
    assert answer.status == 200, answer.body


@scenario("http", "4.referrer")
def test_a_browser_key_without_a_referer_is_blocked_as_empty(t: Target, snapshot) -> None:
    restrictions = RESTRICTIONS["referrer"][0]
    _, key = auth_key(t, {**restrictions, "apiTargets": [{"service": GEMINI}]})
    answer = _via_http(t, key, {})
    assert answer.status == 403 and answer.error["message"] == "Requests from referer <empty> are blocked."
    snapshot.match("answer", answer.shape())

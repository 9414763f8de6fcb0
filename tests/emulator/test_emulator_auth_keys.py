"""The Gemini API's key policy in each era, and keys bound to a service account (auth keys), driven by the
real google-genai and openai libraries: standard keys refused as Google refuses them, auth keys acting as
their account on the Gemini API and in Vertex AI express mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from gcp_setup.emulator.apikeys.models import ApiKeysBackend, Key
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
from gcp_setup.emulator.iam.models import ServiceAccount, ServiceAccountsBackend
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

MODEL = "gemini-3.8-flash"
GEMINI = "generativelanguage.googleapis.com"
VERTEX = "aiplatform.googleapis.com"
RETRY_ONCE = types.HttpRetryOptions(attempts=1)


def only(*services: str) -> dict[str, Any]:
    return {"restrictions": {"apiTargets": [{"service": s} for s in services]}}


@dataclass
class Setup:
    project: Project
    account: ServiceAccount
    world: Any
    url: str

    def key(self, key_id: str, *targets: str, bound: bool = False) -> Key:
        fields = only(*targets) if targets else {}
        account = self.account if bound else None
        with self.world.lock:
            return self.world.backend(ApiKeysBackend).create(self.project, key_id, fields, account)


@pytest.fixture
def setup(world, emu) -> Setup:
    """A billed project with the Gemini and Vertex AI APIs on and a service account with no role."""
    with world.lock:
        project = world.backend(ProjectsBackend).create("auth-keys-1", owner=world.default_caller)
        world.backend(BillingBackend).link(project, OPEN_ACCOUNT)
        for service in (GEMINI, VERTEX):
            world.backend(ServicesBackend).enable(project, service)
        account = world.backend(ServiceAccountsBackend).create(project, "gemini-caller")
    return Setup(project, account, world, emu.url)


def gemini(url: str, key: str, api_version: str = "v1beta") -> genai.Client:
    options = types.HttpOptions(base_url=url, api_version=api_version, retry_options=RETRY_ONCE)
    return genai.Client(api_key=key, http_options=options)


def express(url: str, key: str) -> genai.Client:
    return genai.Client(
        vertexai=True, api_key=key, http_options=types.HttpOptions(base_url=url, retry_options=RETRY_ONCE)
    )


def chat(url: str, key: str, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1beta/openai/", api_key=key, max_retries=0, **options)


def hi(client: genai.Client) -> Callable[[], Any]:
    """A generateContent call on `client` (the closure keeps the client open until it runs)."""
    return lambda: client.models.generate_content(model=MODEL, contents="hi")


def say_hi(client: openai.OpenAI):
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])


def genai_refusal(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(genai_errors.APIError) as caught:
        call()
    details = caught.value.details["error"].get("details") or [{}]
    return caught.value.code, details[0].get("reason", "")


def openai_refusal(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    return caught.value.status_code, caught.value.body[0]["error"]


def every_generation_path(url: str, key: str) -> list[Callable[[], Any]]:
    """generateContent (v1beta and v1), streamGenerateContent, countTokens, and OpenAI chat completions."""
    v1beta, v1, openai_client = gemini(url, key), gemini(url, key, "v1"), chat(url, key)
    return [
        hi(v1beta),
        hi(v1),
        lambda: "".join(c.text for c in v1beta.models.generate_content_stream(model=MODEL, contents="hi")),
        lambda: v1.models.count_tokens(model=MODEL, contents="hi"),
        lambda: say_hi(openai_client),
    ]


# (era, key) -> Google's answer on a generation path: None (answered), or (HTTP status, ErrorInfo reason).
REFUSED = (400, "API_KEY_INVALID")
UNRESTRICTED_REFUSED = (401, "ACCESS_TOKEN_TYPE_UNSUPPORTED")
ERAS = {
    "any": {"unrestricted": None, "restricted": None, "bound": None},
    "restricted-standard": {"unrestricted": UNRESTRICTED_REFUSED, "restricted": None, "bound": None},
    "auth-only": {"unrestricted": REFUSED, "restricted": REFUSED, "bound": None},
}


@pytest.mark.parametrize("era", list(ERAS))
def test_each_era_answers_each_kind_of_key_on_every_generation_path(setup, emu, era) -> None:
    emu.set_realism(gemini_key_policy=era)
    keys = {
        "unrestricted": setup.key("unrestricted"),
        "restricted": setup.key("restricted", GEMINI),
        "bound": setup.key("bound", GEMINI, bound=True),
    }
    for kind, key in keys.items():
        expected = ERAS[era][kind]
        for index, call in enumerate(every_generation_path(setup.url, key.key_string)):
            if expected is None:
                assert call(), (era, kind, index)
            elif index == 4:  # the OpenAI-compatible endpoint: Google's error object in a list
                status, error = openai_refusal(call)
                assert (status, error["details"][0]["reason"]) == expected, (era, kind)
            else:
                assert genai_refusal(call) == expected, (era, kind, index)


def test_restricted_standard_refusal_is_googles_401(setup, emu) -> None:
    emu.set_realism(gemini_key_policy="restricted-standard")
    key = setup.key("unrestricted").key_string
    status, error = openai_refusal(lambda: say_hi(chat(setup.url, key)))
    assert (status, error["status"]) == (401, "UNAUTHENTICATED")
    assert error["message"].startswith(
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential."
    )
    assert error["details"][0]["metadata"]["method"] == (
        "google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent"
    )


def test_an_unrestricted_standard_key_still_lists_models_until_september(setup, emu) -> None:
    """google-gemini/gemini-cli#28538: models.list answered while generation was refused (in the era
    restricted-standard); from auth-only on, the key is refused everywhere."""
    key = setup.key("unrestricted").key_string
    client, openai_client = gemini(setup.url, key), chat(setup.url, key)
    emu.set_realism(gemini_key_policy="restricted-standard")
    assert list(client.models.list(config={"page_size": 5}))
    assert [m.id for m in openai_client.models.list()]
    emu.set_realism(gemini_key_policy="auth-only")
    assert genai_refusal(lambda: list(client.models.list())) == REFUSED
    assert openai_refusal(lambda: openai_client.models.list())[0] == 400


def test_a_retired_standard_key_and_a_deleted_key_get_the_same_answer(setup, emu, world) -> None:
    """Google answers both with 400 API_KEY_INVALID; a client can tell them apart only by what it knows of the
    key (its AIza prefix, keys:lookupKey), never by the answer."""
    emu.set_realism(gemini_key_policy="auth-only")
    standard, gone = setup.key("standard", GEMINI), setup.key("gone", GEMINI, bound=True)
    with world.lock:
        world.backend(ApiKeysBackend).delete(gone)
    answers = []
    for key in (standard, gone, "AQ.Ab8-mistyped"):
        key_string = key if isinstance(key, str) else key.key_string
        with pytest.raises(openai.BadRequestError) as caught:
            say_hi(chat(setup.url, key_string))
        answers.append(caught.value.body)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0]["error"]["message"] == "API key not valid. Please pass a valid API key."


def test_a_bound_key_acts_as_its_service_account(setup, emu) -> None:
    key = setup.key("bound", GEMINI, bound=True)
    assert key.key_string.startswith("AQ.") and len(key.key_string) == 53
    emu.clear_requests()
    client = gemini(setup.url, key.key_string)
    assert client.models.generate_content(model=MODEL, contents="hi").text
    assert say_hi(chat(setup.url, key.key_string)).choices[0].message.content
    assert {r["principal"] for r in emu.requests()} == {setup.account.member}


@pytest.mark.parametrize("what", ["disabled", "deleted", "deleted and recreated"])
def test_a_bound_key_of_an_unusable_account_is_refused(setup, world, what) -> None:
    key = setup.key("bound", GEMINI, bound=True).key_string
    accounts = world.backend(ServiceAccountsBackend)
    with world.lock:
        if what == "disabled":
            accounts.set_disabled(setup.account, True)
        else:
            accounts.delete(setup.account)
        if what == "deleted and recreated":  # same email, another account: the key does not follow the email
            accounts.create(setup.project, setup.account.account_id)
    assert genai_refusal(hi(gemini(setup.url, key))) == (401, "ACCOUNT_STATE_INVALID")
    status, error = openai_refusal(lambda: say_hi(chat(setup.url, key)))
    assert (status, error["details"][0]["metadata"]["email"]) == (401, setup.account.email)


def test_a_bound_key_works_again_once_its_account_is_enabled(setup, world) -> None:
    key = setup.key("bound", GEMINI, bound=True).key_string
    accounts = world.backend(ServiceAccountsBackend)
    accounts.set_disabled(setup.account, True)
    assert openai_refusal(lambda: say_hi(chat(setup.url, key)))[0] == 401
    accounts.set_disabled(setup.account, False)
    assert say_hi(chat(setup.url, key)).choices


@pytest.mark.parametrize(
    "options",
    [
        {"default_headers": {"x-goog-api-key": "KEY"}},
        {"default_query": {"key": "KEY"}},
    ],
    ids=["x-goog-api-key header", "key query parameter"],
)
def test_the_key_twice_on_the_openai_path_is_multiple_credentials(setup, options) -> None:
    key = setup.key("bound", GEMINI, bound=True).key_string
    twice = {name: {k: key for k in value} for name, value in options.items()}
    status, error = openai_refusal(lambda: say_hi(chat(setup.url, key, **twice)))
    assert (status, error) == (
        400,
        {
            "code": 400,
            "message": "Multiple authentication credentials received. Please pass only one.",
            "status": "INVALID_ARGUMENT",
        },
    )


# -- Vertex AI express mode -------------------------------------------------------------------------
def test_express_mode_with_a_bound_key_whose_account_is_an_express_user(setup, emu) -> None:
    setup.project.policy.add_binding("roles/aiplatform.expressUser", setup.account.member)
    key = setup.key("vertex-express", VERTEX, bound=True).key_string
    emu.clear_requests()
    client = express(setup.url, key)
    assert client.models.generate_content(model=MODEL, contents="hi").text
    assert client.models.count_tokens(model=MODEL, contents="hi").total_tokens
    paths = {r["path"] for r in emu.requests()}
    assert f"/v1beta1/publishers/google/models/{MODEL}:generateContent" in paths
    assert {r["principal"] for r in emu.requests()} == {setup.account.member}


def test_express_mode_refusals(setup, emu) -> None:
    no_role = setup.key("no-role", VERTEX, bound=True).key_string
    assert genai_refusal(hi(express(setup.url, no_role))) == (403, "IAM_PERMISSION_DENIED")
    setup.project.policy.add_binding("roles/aiplatform.expressUser", setup.account.member)
    gemini_only = setup.key("gemini-only", GEMINI, bound=True).key_string
    assert genai_refusal(hi(express(setup.url, gemini_only))) == (403, "API_KEY_SERVICE_BLOCKED")


@pytest.mark.parametrize(
    ("era", "answered"), [("any", True), ("restricted-standard", True), ("auth-only", False)]
)
def test_express_mode_with_an_old_standard_express_key(setup, emu, era, answered) -> None:
    emu.set_realism(gemini_key_policy=era)
    key = setup.key("old-express", VERTEX).key_string
    call = hi(express(setup.url, key))
    if answered:
        assert call().text
    else:
        assert genai_refusal(call) == (401, "CREDENTIALS_MISSING")

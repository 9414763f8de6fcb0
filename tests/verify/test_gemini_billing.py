"""The Gemini API's billing as Google runs it today, one situation per test: the emulator's answer through
google-genai or openai, then `gcp-setup verify`'s one-line diagnosis of it (docs/emulator.md, "Gemini API
billing"; docs/verify.md)."""

from __future__ import annotations

import json

import openai
import pytest
from click.testing import CliRunner
from google.genai import errors as genai_errors
from google.genai import types

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT, BillingBackend
from gcp_setup.emulator.generativelanguage.models import GenerativeModels

MODEL = "gemini-3.8-flash"
PAID_ONLY_MODEL = "gemini-3.1-pro-preview"
DEPLETED = "Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects"
ONE_CALL = 0.001  # guesses.GEMINI_PRICE_PER_GENERATION_USD


def genai_client(gp):
    from google import genai

    options = types.HttpOptions(
        base_url=gp.emu.url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1)
    )
    return genai.Client(api_key=gp.api_key.key_string, http_options=options)


def openai_client(gp):
    return openai.OpenAI(
        base_url=f"{gp.emu.url}/v1beta/openai/", api_key=gp.api_key.key_string, max_retries=0
    )


def generate(gp, model: str = MODEL) -> str:
    client = genai_client(gp)  # held: a client collected mid-call closes its connection
    return client.models.generate_content(model=model, contents="Hi").text


def refused(gp, model: str = MODEL) -> genai_errors.APIError:
    with pytest.raises(genai_errors.APIError) as raised:
        generate(gp, model)
    return raised.value


def diagnosis(*args: str) -> dict:
    """verify's gemini-api check, as JSON."""
    result = CliRunner().invoke(cli, ["verify", "--format", "json", "--only", "gemini-api", *args])
    check = json.loads(result.stdout)["checks"][0]
    assert result.exit_code == 1 and check["status"] == "failed", result.output
    assert "\n" not in check["hint"]
    return check


def test_no_billing_the_free_tier_answers_and_vertex_ai_needs_billing(gemini_project, world) -> None:
    world.backend(BillingBackend).link(gemini_project.project, "")
    assert generate(gemini_project)  # a model with a free tier: no billing, no credits needed
    result = CliRunner().invoke(
        cli, ["verify", "--format", "json", "--only", "gemini-api", "--only", "vertex"]
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["gemini-api"]["status"] == "passed"
    assert checks["vertex"]["reason"] == "BILLING_DISABLED"
    assert "gcloud billing projects link verify-gemini-1 --billing-account" in checks["vertex"]["hint"]


def test_tier_1_without_credits_answers_depleted_on_every_model(gemini_project) -> None:
    """Linked billing makes Tier 1, but paid use needs prepaid credits (Google's billing page)."""
    gemini_project.emu.set_realism(gemini_prepay_balance={"verify-gemini-1": 0})
    error = refused(gemini_project)
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    assert error.message.startswith(DEPLETED)
    gemini_project.emu.clear_requests()
    check = diagnosis()
    assert [r["status"] for r in gemini_project.emu.requests()].count(429) == 1  # no wait helps: sent once
    assert check["reason"] == "PREPAY_DEPLETED"
    assert "buy credits" in check["hint"] and "https://ai.studio/projects" in check["hint"]
    assert "linking billing alone is not enough" in check["hint"]


def test_credits_run_out_mid_way_on_the_openai_path_too(gemini_project) -> None:
    gemini_project.emu.set_realism(gemini_prepay_balance={"verify-gemini-1": 1.5 * ONE_CALL})
    client = openai_client(gemini_project)
    ask = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    assert client.chat.completions.create(**ask).choices[0].message.content
    assert client.chat.completions.create(**ask).choices[0].message.content  # the last credits go
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(**ask)
    assert DEPLETED in json.dumps(raised.value.body)  # Google's error object, in a one-element list
    assert diagnosis()["reason"] == "PREPAY_DEPLETED"


def test_the_spend_based_rate_limit_answers_429_until_the_10_minutes_pass(gemini_project) -> None:
    emu = gemini_project.emu
    emu.freeze_clock()
    emu.set_realism(gemini_spend_rate_limits={"tier1": 1.5 * ONE_CALL})
    assert generate(gemini_project)
    error = refused(gemini_project)
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    assert "spend-based rate limit" in error.message
    check = diagnosis()
    assert check["reason"] == "SPEND_RATE_LIMITED"
    assert "not a credit problem" in check["hint"] and "retry in 600 s" in check["hint"]
    emu.advance_clock(600)
    assert generate(gemini_project)


def test_free_trial_credits_leave_the_gemini_api_on_the_free_tier(gemini_project, world) -> None:
    """A project on a Cloud free-trial account: Vertex AI is paid for, the Gemini API is not (limit 0)."""
    gemini_project.emu.set_realism(free_trial_accounts=[OPEN_ACCOUNT])
    world.backend(GenerativeModels).switches.no_free_tier_models.add(PAID_ONLY_MODEL)
    error = refused(gemini_project, PAID_ONLY_MODEL)
    assert error.code == 429 and f"limit: 0, model: {PAID_ONLY_MODEL}" in error.message
    check = diagnosis("--model", PAID_ONLY_MODEL)
    assert check["reason"] == "FREE_TIER_LIMIT_0"
    assert "free-trial credits do not pay for the Gemini API" in check["hint"]
    assert "https://ai.studio/projects" in check["hint"]
    vertex = CliRunner().invoke(cli, ["verify", "--format", "json", "--only", "vertex"])
    assert json.loads(vertex.stdout)["checks"][0]["status"] == "passed"


def test_a_project_of_its_own_tier_without_a_spend_limit_is_not_capped(gemini_project) -> None:
    gemini_project.emu.set_realism(
        gemini_tiers={"verify-gemini-1": "tier3"}, gemini_spend_rate_limits={"tier1": 0}
    )
    assert generate(gemini_project)

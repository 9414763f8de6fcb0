"""The JSON Schema of the --format json documents (gcp_setup/output/schema/document.schema.json) against the
code: its enums are the code's, it refuses what it should, and the documents say what happened (destroy's
says destroy, a deleted service account reads deleted). conftest validates every document the other
tests print."""

from __future__ import annotations

import json

from click.testing import CliRunner
from document_schema import problems

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT
from gcp_setup.output import schema
from gcp_setup.steps.base import SYMBOLS, Outcome
from gcp_setup.verify import CHECK_NAMES

DEFS = schema.schema()["$defs"]
PROJECT = "document-schema-1"
SETUP = ("--project", PROJECT, "--create", "--billing-account", OPEN_ACCOUNT.removeprefix("billingAccounts/"))


def test_the_schema_names_the_codes_outcomes_actions_and_checks() -> None:
    assert set(DEFS["outcome"]["enum"]) == {o.value for o in Outcome}
    assert DEFS["action"]["properties"]["kind"]["enum"] == list(SYMBOLS)
    assert DEFS["check"]["properties"]["name"]["enum"] == list(CHECK_NAMES)


def test_every_command_with_a_json_format_has_a_document() -> None:
    commands = set(schema.schema()["properties"]["command"]["enum"])
    for command in commands:
        args = [command, "--help"]
        assert "--format" in CliRunner().invoke(cli, args).stdout, command
    assert commands == {"plan", "apply", "status", "destroy", "verify", "config", "models", "reap", "output"}


def test_the_schema_refuses_a_document_without_a_version_or_with_an_unknown_outcome() -> None:
    step = {"name": "project", "outcome": "done", "detail": "", "hint": None, "seconds": 0}
    step |= {"actions": [], "outputs": {}}
    document = {"command": "apply", "project": PROJECT, "endpoint": "google", "ok": True}
    document |= {"changes_pending": False, "steps": [step]}
    found = "\n".join(problems(document))
    assert "'format_version' is a required property" in found
    assert problems(schema.document("apply", document)) != []
    step["outcome"] = "updated"
    assert problems(schema.document("apply", document)) == []


def test_destroys_document_says_destroy_and_deleted(provision_env) -> None:
    assert CliRunner().invoke(cli, ["apply", *SETUP, "--yes"]).exit_code == 0
    result = CliRunner().invoke(cli, ["destroy", "--project", PROJECT, "--yes", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["format_version"], document["command"]) == (schema.FORMAT_VERSION, "destroy")
    outcomes = {s["name"]: s["outcome"] for s in document["steps"]}
    assert outcomes["service_account"] == outcomes["api_key"] == "deleted"

"""Project, billing and services steps: through the engine and real HTTP against the emulator (their
plans as data tables: tests/steps/test_step_cases.py)."""

from __future__ import annotations

import pytest

from gcp_setup.emulator.billing.models import CLOSED_ACCOUNT, OPEN_ACCOUNT
from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.emulator.resourcemanager.models import SEEDED_FOREIGN_PROJECT, ProjectsBackend
from gcp_setup.emulator.serviceusage.models import CATALOGUE
from gcp_setup.engine import Engine, RunResult
from gcp_setup.google.billing import BillingClient, BillingInfo
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.google.serviceusage import ServiceUsageClient
from gcp_setup.google.session import GoogleSession
from gcp_setup.settings.config import Config
from gcp_setup.steps import Context, load_steps
from gcp_setup.steps.base import Outcome

STEPS = (
    "gcp_setup.steps.project:ProjectStep",
    "gcp_setup.steps.billing:BillingStep",
    "gcp_setup.steps.services:ServicesStep",
)
OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
PROJECT = "orchestrator-1"


def run(emu: EmulatorControl, mode: str = "apply", notes: list | None = None, **settings) -> RunResult:
    settings.setdefault("project", PROJECT)
    ctx = Context(Config(**settings), GoogleSession.create(emu.host))
    if notes is not None:
        ctx.progress = lambda step, message: notes.append((step, message))
    return Engine().run(load_steps(STEPS), ctx, mode)  # type: ignore[arg-type]


def outcomes(result: RunResult) -> dict[str, str]:
    return {r.name: r.outcome.value for r in result.results}


def test_apply_from_empty_creates_project_links_billing_enables_services(emu):
    result = run(emu, create=True, billing_account=OPEN, labels={"team": "ml"})
    assert outcomes(result) == {"project": "created", "billing": "updated", "services": "created"}
    session = GoogleSession.create(emu.host)
    project = ResourceManagerClient(session).get_project(PROJECT)
    assert (
        project is not None
        and project.state == "ACTIVE"
        and project.labels == {"team": "ml", "created-by": "gcp-setup"}
    )
    assert result.by_name("project").outputs == {
        "project_id": PROJECT,
        "number": project.number,
        "parent": "",
    }
    assert BillingClient(session).billing_info(PROJECT) == BillingInfo(True, OPEN)
    assert ServiceUsageClient(session).enabled_among(PROJECT, Config(project=PROJECT).services) == set(
        Config(project=PROJECT).services
    )
    assert len(emu.writes()) == 3  # create project, link billing, one batchEnable


def test_second_apply_reads_three_times_and_writes_nothing(emu):
    run(emu, create=True, billing_account=OPEN)
    emu.clear_requests()
    result = run(emu, create=True, billing_account=OPEN)
    assert set(outcomes(result).values()) == {"unchanged"}
    assert emu.writes() == []
    reads = [r for r in emu.requests() if r["kind"] != "auth"]
    assert sorted(r["method_id"].rsplit(".", 1)[-1] for r in reads) == [  # sent at once
        "batchGet",
        "get",
        "getBillingInfo",
    ]


def test_plan_on_an_empty_world_lists_the_creations_and_changes_nothing(emu):
    result = run(emu, "plan", create=True, billing_account=OPEN)
    assert outcomes(result) == {"project": "planned", "billing": "planned", "services": "planned"}
    summaries = [a.summary for r in result.results for a in r.actions]
    assert summaries[:2] == [f"create project {PROJECT}", f"link project {PROJECT} to billing account {OPEN}"]
    assert "aiplatform.googleapis.com" in summaries[2], "billing will be linked, so Vertex AI is planned too"
    assert emu.writes() == []


def test_existing_project_and_services_are_adopted(emu, make_project, world):
    make_project(PROJECT, services=("generativelanguage.googleapis.com", "iam.googleapis.com"))
    result = run(emu, billing_account=OPEN)
    assert outcomes(result) == {"project": "unchanged", "billing": "updated", "services": "created"}
    enable = result.by_name("services").actions
    assert len(enable) == 1 and "generativelanguage" not in enable[0].summary
    assert len(world.backend(ProjectsBackend).projects) == 2  # ours and the seeded foreign one


def test_project_pending_deletion_is_a_clear_error(emu, make_project, world):
    backend = world.backend(ProjectsBackend)
    with world.lock:
        backend.request_delete(make_project(PROJECT))
    result = run(emu, create=True)
    step = result.by_name("project")
    assert step.outcome is Outcome.FAILED
    assert "pending deletion (DELETE_REQUESTED)" in step.detail
    assert f"gcloud projects undelete {PROJECT}" in step.hint
    assert outcomes(result)["services"] == "blocked"


def test_someone_elses_project_id_is_a_clear_error(emu):
    result = run(emu, project=SEEDED_FOREIGN_PROJECT, create=True)
    step = result.by_name("project")
    assert step.outcome is Outcome.FAILED
    assert "already taken" in step.detail and step.hint == "choose another --project ID"
    assert emu.writes() == []


def test_missing_project_without_create_says_how(emu):
    step = run(emu).by_name("project")
    assert step.outcome is Outcome.FAILED and "--create" in step.hint


def test_closed_billing_account_is_an_error(emu):
    result = run(emu, create=True, billing_account=CLOSED_ACCOUNT.removeprefix("billingAccounts/"))
    assert result.by_name("billing").outcome is Outcome.FAILED
    assert "is closed" in result.by_name("billing").detail


def test_without_billing_only_vertex_ai_waits(emu):
    result = run(emu, create=True)
    billing_step, services_step = result.by_name("billing"), result.by_name("services")
    assert billing_step.outcome is Outcome.UNCHANGED and result.ok
    assert "Agent Platform (Vertex AI) (aiplatform.googleapis.com) waits for billing" in billing_step.detail
    assert "the Gemini API works on its free tier" in billing_step.detail
    assert f"gcloud billing projects link {PROJECT} --billing-account=" in billing_step.detail
    assert "console.cloud.google.com/billing" in billing_step.detail
    assert services_step.outcome is Outcome.CREATED
    assert "aiplatform.googleapis.com waits for billing" in services_step.detail

    linked = run(emu, billing_account=OPEN)
    assert outcomes(linked) == {"project": "unchanged", "billing": "updated", "services": "created"}
    assert linked.by_name("services").actions[0].data["services"] == ["aiplatform.googleapis.com"]


def test_more_than_twenty_services_go_in_chunks(emu):
    extra = tuple(s for s in CATALOGUE if s not in Config(project=PROJECT).services)
    assert len(extra) + len(Config(project=PROJECT).services) > 20
    services = (*Config(project=PROJECT).services, *extra)
    result = run(emu, create=True, billing_account=OPEN, services=services)
    assert result.ok, result.by_name("services").detail
    assert [len(a.data["services"]) for a in result.by_name("services").actions] == [20, len(services) - 20]
    assert len([r for r in emu.requests() if r["method_id"].endswith("batchEnable")]) == 2

    def batch_gets() -> list[str]:
        return [
            r["path"] for r in emu.requests() if r["method_id"].endswith("batchGet") and r["status"] == 200
        ]

    # In a project it has just created the step knows nothing is enabled, and the batchEnable operations'
    # responses tell what is now: it reads nothing. A re-run reads in two chunks, once.
    assert batch_gets() == []
    emu.clear_requests()
    again = run(emu, create=True, billing_account=OPEN, services=services)
    assert outcomes(again)["services"] == "unchanged"
    assert len(batch_gets()) == 2


def test_long_running_operations_are_waited_for_with_progress(emu):
    emu.set_realism(operation_polls=2)
    notes: list = []
    result = run(emu, notes=notes, create=True, billing_account=OPEN)
    assert result.ok
    steps_waited = {step for step, _ in notes}
    assert steps_waited == {"project", "services"}
    assert any("creating project" in message for _, message in notes)


@pytest.mark.parametrize("drop_after", [1, 2, 3])
def test_a_lost_answer_to_any_write_is_finished_by_the_next_run(emu, drop_after):
    emu.set_realism(drop_after_writes=drop_after)
    run(emu, create=True, billing_account=OPEN)  # may succeed through retries, or fail
    emu.set_realism(drop_after_writes=None)
    result = run(emu, create=True, billing_account=OPEN)
    assert result.ok, [(r.name, r.detail) for r in result.results]
    emu.clear_requests()
    assert set(outcomes(run(emu, create=True, billing_account=OPEN)).values()) == {"unchanged"}
    assert emu.writes() == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_converges_under_faults(emu, seed):
    emu.set_realism(fault_rate=0.2, seed=seed, operation_polls=1)
    result = run(emu, create=True, billing_account=OPEN)
    assert result.ok, [(r.name, r.detail) for r in result.results]
    emu.set_realism(fault_rate=0)
    emu.clear_requests()
    assert set(outcomes(run(emu, create=True, billing_account=OPEN)).values()) == {"unchanged"}
    assert emu.writes() == []

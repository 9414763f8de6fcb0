"""Every step's plan() as a data table (pyinfra's way): one case file per scenario under
tests/cases/<table>/, the observed state in, the planned actions (or the error) out; a case with no
actions is an idempotence test.

A case file holds a one-line `description`, the `config` that matters, the upstream `outputs` the step
reads, and the observation: `keys` (the project's keys.list answer, through the step's own sort of
it) for the key steps; `state` (the fields of the step's state) for the others; or neither for a step
whose observe reads only upstream outputs and local `files` (its real observe is called; `{tmp}` in a
case is the directory those files are written to). Then `actions` (kind, resource, summary, and
`data` when the case pins it), or `error` (and `hint`); `describe` and `published` (outputs) when the
case pins them.
No plan needs the live API (each is pure over its state), so the tables run without the emulator; the
key tables, whose observation is the richest, also run through it: their keys made with the real API,
read by the step's real observe.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import make_identity_project

from gcp_setup.emulator.control import EmulatorControl
from gcp_setup.export.terraform import EXPORT_STEPS
from gcp_setup.google.apikeys import ApiKeysClient, api_targets, key_id
from gcp_setup.google.iam import IamClient
from gcp_setup.google.iam_policy import Binding
from gcp_setup.google.resourcemanager import ProjectInfo, ResourceManagerClient
from gcp_setup.google.session import GoogleSession
from gcp_setup.secrets.secret import Secret
from gcp_setup.settings.checks import CREDENTIAL_MODES
from gcp_setup.settings.config import Config
from gcp_setup.settings.table import BY_NAME
from gcp_setup.steps import (
    _AFTER_SMOKE_TEST,
    _DELETE_ANY_PROJECT,
    _DELETE_PROJECT,
    _PROVISION,
    _TEARDOWN,
    Context,
    load_steps,
)
from gcp_setup.steps.adc.impersonation import ImpersonatedCredentials, ImpersonationState
from gcp_setup.steps.adc.key_file import KeyFileCredentials
from gcp_setup.steps.adc.kind import CredentialsKind
from gcp_setup.steps.adc.user import UserCredentials
from gcp_setup.steps.api_key import ApiKeyStep, ExpressKeyStep
from gcp_setup.steps.base import Step, StepError
from gcp_setup.steps.billing import BillingState, BillingStep
from gcp_setup.steps.env_file import EnvFileStep
from gcp_setup.steps.github_env import GithubEnvState, GithubEnvStep
from gcp_setup.steps.key_policy import KeyPolicyState, KeyPolicyStep
from gcp_setup.steps.project import ProjectState, ProjectStep
from gcp_setup.steps.retire_keys import RetireKeysStep
from gcp_setup.steps.roles import RolesState, RolesStep
from gcp_setup.steps.secret_files import LeftoverState, SecretFilesCleanup, SecretFilesStep
from gcp_setup.steps.service_account import ServiceAccountState, ServiceAccountStep
from gcp_setup.steps.services import ServicesState, ServicesStep
from gcp_setup.steps.teardown import (
    AccountState,
    DeleteAnyProject,
    DeleteApiKey,
    DeleteCredentialsFile,
    DeleteProject,
    DeleteServiceAccount,
    FilesState,
)
from gcp_setup.steps.teardown import ProjectState as TeardownProjectState
from gcp_setup.steps.token_creators import TokenCreatorsStep
from gcp_setup.steps.workload_identity import (
    GitlabIdentityStep,
    RemoveGitlabIdentity,
    RemoveWorkloadIdentity,
    TeardownState,
    WorkloadIdentityState,
    WorkloadIdentityStep,
)

CASES = Path(__file__).parent.parent / "cases"

Observation = Callable[[Step, Context, dict[str, Any]], Any]
"""(the step, its context, the case) -> the state its plan gets."""


def fields(make: Callable[..., Any]) -> Observation:
    """A state built from the case's `state` fields, as the step's observe builds it."""
    return lambda step, ctx, spec: make(**spec["state"])


def key_list(step: Step, ctx: Context, spec: dict[str, Any]) -> Any:
    """The key steps' observation: the project's keys.list answer, sorted by the step itself."""
    if isinstance(step, DeleteApiKey):
        return step.sort(spec["keys"])
    assert isinstance(step, ApiKeyStep)
    return step.sort(ctx, spec["keys"], account_is_new=spec.get("account_is_new", False))


def observed(step: Step, ctx: Context, spec: dict[str, Any]) -> Any:
    """A step whose observe reads only upstream outputs and local files: its real observe."""
    return step.observe(ctx)


def optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def flag(value: bool) -> bool:
    return value


def leftovers(note_file: str | None = None, temp_files: tuple[str, ...] = (), **rest: Any) -> LeftoverState:
    return LeftoverState(optional_path(note_file), temp_files=[Path(p) for p in temp_files], **rest)


def github_env_state(path: str | None, **rest: Any) -> GithubEnvState:
    return GithubEnvState(optional_path(path), **rest)


def account_state(email: str, account: dict[str, Any] | None, bindings: tuple = ()) -> AccountState:
    return AccountState(email, account, [Binding(*b) for b in bindings])


def files_state(files: list[str]) -> FilesState:
    return FilesState([Path(f) for f in files])


def project_state(info: dict[str, Any] | None) -> ProjectState:
    return ProjectState(ProjectInfo(**info) if info else None)


TABLES: dict[str, tuple[type[Step], Observation]] = {
    "project": (ProjectStep, fields(project_state)),
    "billing": (BillingStep, fields(BillingState)),
    "services": (ServicesStep, fields(lambda enabled: ServicesState(frozenset(enabled)))),
    "key_policy": (KeyPolicyStep, fields(KeyPolicyState)),
    "service_account": (ServiceAccountStep, fields(ServiceAccountState)),
    "roles": (RolesStep, fields(RolesState)),
    "api_key": (ApiKeyStep, key_list),
    "express_key": (ExpressKeyStep, key_list),
    "workload_identity": (WorkloadIdentityStep, fields(WorkloadIdentityState)),
    "gitlab_identity": (GitlabIdentityStep, fields(WorkloadIdentityState)),
    "secret_files": (SecretFilesStep, fields(leftovers)),
    "credentials_user": (UserCredentials, fields(optional_path)),
    "credentials_impersonate": (ImpersonatedCredentials, fields(ImpersonationState)),
    "credentials_key_file": (KeyFileCredentials, fields(flag)),
    "credentials_none": (CredentialsKind, observed),
    "env_file": (EnvFileStep, observed),
    "github_env": (GithubEnvStep, fields(github_env_state)),
    "retire_keys": (RetireKeysStep, observed),
    "destroy_api_key": (DeleteApiKey, key_list),
    "destroy_workload_identity": (RemoveWorkloadIdentity, fields(TeardownState)),
    "destroy_gitlab_identity": (RemoveGitlabIdentity, fields(TeardownState)),
    "destroy_service_account": (DeleteServiceAccount, fields(account_state)),
    "destroy_secret_files": (SecretFilesCleanup, fields(leftovers)),
    "destroy_credentials": (DeleteCredentialsFile, fields(files_state)),
    "destroy_project": (DeleteProject, fields(TeardownProjectState)),
    "destroy_any_project": (DeleteAnyProject, fields(TeardownProjectState)),
    "token_creators": (TokenCreatorsStep, fields(lambda members: frozenset(members))),
}
"""Each case table (a folder of tests/cases/) and the step class whose plan it holds."""


def config_from(data: dict[str, Any]) -> Config:
    data = dict(data)
    if "services" in data:  # the case lists only the services it adds to the default ones
        data["services"] = (*Config(project=data["project"]).services, *data["services"])
    paths = {name: Path(value) for name, value in data.items() if BY_NAME[name].path and value is not None}
    return Config(**{**data, **paths})


def as_dict(action: Any, with_data: bool) -> dict[str, Any]:
    out = {"kind": action.kind, "resource": action.resource, "summary": action.summary}
    return {**out, "data": action.data} if with_data else out


ALL_CASES = sorted(CASES.glob("*/*.json"))


def upstream(outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The case's upstream outputs, a key string among them a Secret (as the key steps publish it)."""
    secret = {"key_string"}
    return {
        step: {k: Secret(v) if k in secret and v else v for k, v in values.items()}
        for step, values in outputs.items()
    }


def write_files(root: Path, files: dict[str, str]) -> None:
    """The local files the step observes (a .env), under the case's own directory."""
    for name, text in files.items():
        (root / name).write_text(text)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_plan(case: Path, tmp_path: Path) -> None:
    spec = json.loads(case.read_text().replace("{tmp}", str(tmp_path)))
    assert spec.get("description"), "every case says in one line what it is"
    write_files(tmp_path, spec.get("files", {}))
    step_cls, observation = TABLES[case.parent.name]
    step = step_cls()
    ctx = Context(config_from(spec["config"]), GoogleSession(), outputs=upstream(spec.get("outputs", {})))
    state = observation(step, ctx, spec)
    if "error" in spec:
        with pytest.raises(StepError) as raised:
            step.plan(ctx, state)
        assert str(raised.value) == spec["error"]
        assert raised.value.hint == spec.get("hint", raised.value.hint)
        return
    expected = spec["actions"]
    pins_data = any("data" in a for a in expected)
    assert [as_dict(a, pins_data) for a in step.plan(ctx, state)] == expected
    if "describe" in spec:  # what the step says of the state (`status`, and the `=` lines of `plan`)
        assert step.describe(ctx, state) == spec["describe"]
    if "published" in spec:  # the outputs later steps read, as far as the case pins them
        outputs = step.outputs(ctx, state)
        assert {k: outputs.get(k) for k in spec["published"]} == spec["published"]


def registered_step_classes() -> set[type[Step]]:
    """Every step class the registry can load: provision, after the smoke test, teardown, export
    terraform's, and each credentials kind `--credentials` picks."""
    classes = set()
    for path in (
        *_PROVISION,
        *_AFTER_SMOKE_TEST,
        *_TEARDOWN,
        _DELETE_PROJECT,
        _DELETE_ANY_PROJECT,
        *EXPORT_STEPS,
    ):
        for mode in CREDENTIAL_MODES:
            (step,) = load_steps((path,), Config(project="my-project-1", credentials=mode))
            classes.add(type(step))
    return classes


def test_every_registered_step_has_a_case_table() -> None:
    tabled = {cls for folder, (cls, _) in TABLES.items() if any((CASES / folder).glob("*.json"))}
    missing = sorted(cls.__qualname__ for cls in registered_step_classes() - tabled)
    assert not missing, f"steps without a case table under tests/cases/: {missing}"


def test_every_case_folder_is_a_table() -> None:
    assert {p.name for p in CASES.iterdir() if p.is_dir()} == set(TABLES)


# --- the key tables' observations, as the emulator answers them ------------------------------------

KEY_CASES = [c for c in ALL_CASES if c.parent.name in ("api_key", "express_key")]
CASE_NUMBER = "123456789012"
"""The project number a case's key names carry (Google names a listed key by the project's number)."""


def seed_keys(session: GoogleSession, project: str, keys: list[dict[str, Any]]) -> None:
    """The case's keys, made through the real API: their accounts, then each key (deleted when the
    case's is)."""
    iam, client = IamClient(session), ApiKeysClient(session)
    for email in sorted({k["serviceAccountEmail"] for k in keys if k.get("serviceAccountEmail")}):
        iam.create_service_account(project, email.partition("@")[0], "case", "case")
    for key in keys:
        services = tuple(sorted(api_targets(key)))
        account = key.get("serviceAccountEmail")
        made = client.create(project, key_id(key), key["displayName"], services, account)
        if key.get("deleteTime"):
            client.delete(made)


@pytest.mark.parametrize("case", KEY_CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_key_case_through_the_emulator(case: Path, emulator_env: EmulatorControl) -> None:
    """The same case, its keys made in the emulator and read by the step's real observe (keys.list over
    HTTP): the plan is the table's, so the table's keys are shaped as Google answers them."""
    spec = json.loads(case.read_text())
    session = GoogleSession.create(emulator_env.host)
    project = make_identity_project(emulator_env, spec["config"]["project"])
    seed_keys(session, project, spec["keys"])
    number = ResourceManagerClient(session).get_project(project).number
    expected = json.loads(case.read_text().replace(f"projects/{CASE_NUMBER}/", f"projects/{number}/"))
    step = TABLES[case.parent.name][0]()
    outputs = {"service_account": {"created": spec.get("account_is_new", False)}}
    ctx = Context(config_from(spec["config"]), session, outputs=outputs)
    actions = [as_dict(a, False) for a in step.plan(ctx, step.observe(ctx))]
    assert actions == [{k: a[k] for k in ("kind", "resource", "summary")} for a in expected["actions"]]

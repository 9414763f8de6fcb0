"""The provisioning steps, in the order `plan` lists them; the engine runs independent ones concurrently.

`provision_steps(config)` is the one list `plan`, `apply` and `status` run, followed by
`after_smoke_test_steps()` (`apply` runs those only once its smoke test has passed); `teardown_steps()`
is the one list `destroy` runs. A step module adds itself with one line ("module:Class"); modules
are imported only when a command runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from gcp_setup.steps.base import (
    UNKNOWN,
    Action,
    Context,
    Outcome,
    PreconditionFailed,
    Step,
    StepError,
    StepInputError,
)

__all__ = [
    "UNKNOWN",
    "Action",
    "Context",
    "Outcome",
    "PreconditionFailed",
    "Step",
    "StepError",
    "StepInputError",
    "after_smoke_test_steps",
    "load_steps",
    "provision_steps",
    "teardown_steps",
]

if TYPE_CHECKING:
    from gcp_setup.settings.config import Config

_PROVISION: tuple[str, ...] = (
    "gcp_setup.steps.project:ProjectStep",
    "gcp_setup.steps.billing:BillingStep",
    "gcp_setup.steps.services:ServicesStep",
    "gcp_setup.steps.key_policy:KeyPolicyStep",
    "gcp_setup.steps.service_account:ServiceAccountStep",
    "gcp_setup.steps.roles:RolesStep",
    "gcp_setup.steps.api_key:ApiKeyStep",
    "gcp_setup.steps.api_key:ExpressKeyStep",
    "gcp_setup.steps.workload_identity:WorkloadIdentityStep",
    "gcp_setup.steps.workload_identity:GitlabIdentityStep",
    "gcp_setup.steps.secret_files:SecretFilesStep",
    "gcp_setup.steps.adc.modes:credentials_step",
    "gcp_setup.steps.env_file:EnvFileStep",
    "gcp_setup.steps.github_env:GithubEnvStep",
)
_AFTER_SMOKE_TEST: tuple[str, ...] = ("gcp_setup.steps.retire_keys:RetireKeysStep",)
"""What `apply` runs only once the smoke test has passed (`plan` and `status` show it with the rest)."""

_TEARDOWN: tuple[str, ...] = (
    "gcp_setup.steps.teardown:DeleteApiKey",
    "gcp_setup.steps.workload_identity:RemoveWorkloadIdentity",
    "gcp_setup.steps.workload_identity:RemoveGitlabIdentity",
    "gcp_setup.steps.teardown:DeleteServiceAccount",
    "gcp_setup.steps.secret_files:SecretFilesCleanup",
    "gcp_setup.steps.teardown:DeleteCredentialsFile",
)
_DELETE_PROJECT = "gcp_setup.steps.teardown:DeleteProject"
_DELETE_ANY_PROJECT = "gcp_setup.steps.teardown:DeleteAnyProject"


def load_steps(paths: tuple[str, ...], config: Config | None = None) -> list[Step]:
    """The steps `paths` name ("module:Class", or "module:function" of the config that picks a class)."""
    steps = []
    for path in paths:
        module, attr = path.split(":")
        make = getattr(importlib.import_module(module), attr)
        steps.append(make() if isinstance(make, type) else make(config))
    return steps


def provision_steps(config: Config) -> list[Step]:
    return load_steps(_PROVISION, config)


def after_smoke_test_steps() -> list[Step]:
    return load_steps(_AFTER_SMOKE_TEST)


def teardown_steps(delete_project: bool, force: bool = False) -> list[Step]:
    """`force`: delete the project even when gcp-setup did not create it."""
    if not delete_project:
        return load_steps(_TEARDOWN)
    return load_steps((*_TEARDOWN, _DELETE_ANY_PROJECT if force else _DELETE_PROJECT))

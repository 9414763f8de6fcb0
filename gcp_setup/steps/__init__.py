"""The provisioning steps, in the order `plan` lists them; the engine runs independent ones concurrently.

`provision_steps()` is the one list `plan`, `apply` and `status` run, followed by
`after_smoke_test_steps()` (`apply` runs those only once its smoke test has passed); `teardown_steps()`
is the one list `destroy` runs. A step module adds itself with one line ("module:Class"); modules
are imported only when a command runs.
"""

from __future__ import annotations

import importlib

from gcp_setup.steps.base import UNKNOWN, Action, Context, Outcome, PreconditionFailed, Step, StepError

__all__ = [
    "UNKNOWN",
    "Action",
    "Context",
    "Outcome",
    "PreconditionFailed",
    "Step",
    "StepError",
    "after_smoke_test_steps",
    "load_steps",
    "provision_steps",
    "teardown_steps",
]

_PROVISION: tuple[str, ...] = (
    "gcp_setup.steps.project:ProjectStep",
    "gcp_setup.steps.billing:BillingStep",
    "gcp_setup.steps.services:ServicesStep",
    "gcp_setup.steps.key_policy:KeyPolicyStep",
    "gcp_setup.steps.service_account:ServiceAccountStep",
    "gcp_setup.steps.api_key:ApiKeyStep",
    "gcp_setup.steps.api_key:ExpressKeyStep",
    "gcp_setup.steps.workload_identity:WorkloadIdentityStep",
    "gcp_setup.steps.credentials:CredentialsStep",
)
_AFTER_SMOKE_TEST: tuple[str, ...] = ("gcp_setup.steps.retire_keys:RetireKeysStep",)
"""What `apply` runs only once the smoke test has passed (`plan` and `status` show it with the rest)."""

_TEARDOWN: tuple[str, ...] = (
    "gcp_setup.steps.teardown:DeleteApiKey",
    "gcp_setup.steps.workload_identity:RemoveWorkloadIdentity",
    "gcp_setup.steps.teardown:DeleteServiceAccount",
    "gcp_setup.steps.teardown:DeleteCredentialsFile",
)
_DELETE_PROJECT = "gcp_setup.steps.teardown:DeleteProject"


def load_steps(paths: tuple[str, ...]) -> list[Step]:
    steps = []
    for path in paths:
        module, attr = path.split(":")
        steps.append(getattr(importlib.import_module(module), attr)())
    return steps


def provision_steps() -> list[Step]:
    return load_steps(_PROVISION)


def after_smoke_test_steps() -> list[Step]:
    return load_steps(_AFTER_SMOKE_TEST)


def teardown_steps(delete_project: bool) -> list[Step]:
    return load_steps((*_TEARDOWN, _DELETE_PROJECT) if delete_project else _TEARDOWN)

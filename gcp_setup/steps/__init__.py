"""The provisioning steps, in the order `plan` lists them; the engine runs independent ones concurrently.

`provision_steps()` is the one list `plan`, `apply` and `status` run. A step module adds itself with
one line in `_PROVISION` ("module:Class"); modules are imported only when a command runs.
"""

from __future__ import annotations

import importlib

from gcp_setup.steps.base import Action, Context, Outcome, Step, StepError

__all__ = ["Action", "Context", "Outcome", "Step", "StepError", "load_steps", "provision_steps"]

_PROVISION: tuple[str, ...] = (
    "gcp_setup.steps.project:ProjectStep",
    "gcp_setup.steps.billing:BillingStep",
    "gcp_setup.steps.services:ServicesStep",
    "gcp_setup.steps.service_account:ServiceAccountStep",
    "gcp_setup.steps.api_key:ApiKeyStep",
    "gcp_setup.steps.workload_identity:WorkloadIdentityStep",
    "gcp_setup.steps.credentials:CredentialsStep",
)


def load_steps(paths: tuple[str, ...]) -> list[Step]:
    steps = []
    for path in paths:
        module, attr = path.split(":")
        steps.append(getattr(importlib.import_module(module), attr)())
    return steps


def provision_steps() -> list[Step]:
    return load_steps(_PROVISION)

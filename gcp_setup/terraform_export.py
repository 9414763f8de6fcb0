"""Hand what gcp-setup made over to the Terraform module in terraform/, without recreating anything.

`terraform_vars(config)` is the module's input that describes the same setup (terraform.tfvars), and
`import_commands(config, observed)` lists a `terraform import` for every resource the module would
manage that already exists, addressed as the module addresses it (main.tf). What exists is read
through the live APIs (`observe`), so resources gcp-setup did not create yet are simply left for
`terraform apply` to create. Not imported: `time_sleep` (a wait, not a Google resource: the first
apply after the import creates it, waiting once) and `data.google_project`. With `--github-repo`, the
tfvars carry `github_repository` and the Workload Identity pool, its provider and the account's
roles/iam.workloadIdentityUser binding of the repository are imported too; with `--gitlab-project`
likewise `gitlab_project` (and its issuer and inline keys) and the GitLab pool, provider and binding.

The resource addresses and import IDs below mirror terraform/main.tf and the provider's documented
import formats; tests/test_export_terraform.py holds them against main.tf.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gcp_setup import defaults
from gcp_setup.federations import GITHUB, GITLAB, Federation
from gcp_setup.google.iam import service_account_member, service_account_name
from gcp_setup.google.workload_identity import WorkloadIdentityClient, is_deleted, pool_name, provider_name
from gcp_setup.steps.workload_identity import WORKLOAD_IDENTITY_USER

if TYPE_CHECKING:
    from gcp_setup.config import Config
    from gcp_setup.google.session import GoogleSession

IAM_API = "iam.googleapis.com"
API_KEYS_API = "apikeys.googleapis.com"


@dataclass(frozen=True)
class Observed:
    """What exists now, of what the module would manage."""

    project_exists: bool = False
    billing_account: str = ""
    """The linked account ("0X0X0X-0X0X0X-0X0X0X"), or "" when none."""
    enabled_services: frozenset[str] = frozenset()
    service_account_exists: bool = False
    granted_roles: frozenset[str] = frozenset()
    """Project roles the service account holds (unconditionally)."""
    token_creators: frozenset[str] = frozenset()
    """Members with roles/iam.serviceAccountTokenCreator on the service account."""
    api_keys: Mapping[str, str] = field(default_factory=dict)
    """Resource address -> key name, of gcp-setup's current keys (the Gemini API key, the express key)."""
    api_key_generation: int = 1
    """The N of the current gemini-key-N (the module's api_key_generation)."""
    federations: Mapping[str, ObservedFederation] = field(default_factory=dict)
    """By the module's resource name (github, gitlab): what exists of that CI system's federation."""


@dataclass(frozen=True)
class ObservedFederation:
    pool_exists: bool = False
    """The Workload Identity pool (not soft-deleted: a deleted one cannot be imported)."""
    provider_exists: bool = False
    member: str = ""
    """The repository's (project's) principalSet, when it holds roles/iam.workloadIdentityUser on the
    account; else ""."""


MODULE_FEDERATIONS: tuple[tuple[str, Federation], ...] = (("github", GITHUB), ("gitlab", GITLAB))
"""The module's resource name of each CI system's pool, provider and binding (`NAME_wif`)."""


@dataclass(frozen=True)
class Import:
    address: str
    """Address inside the module, e.g. google_project_service.services["iam.googleapis.com"]."""
    import_id: str

    def command(self, module: str | None = None) -> str:
        address = f"module.{module}.{self.address}" if module else self.address
        return f"terraform import {shlex.quote(address)} {shlex.quote(self.import_id)}"


@dataclass(frozen=True)
class Export:
    tfvars: str
    imports: list[Import] = field(default_factory=list)

    def import_script(self, module: str | None = None) -> str:
        lines = [
            "#!/bin/sh",
            "# Adopt what gcp-setup created into the Terraform state (run in the root module's directory).",
            "set -e",
            *(i.command(module) for i in self.imports),
        ]
        return "\n".join(lines) + "\n"


def _hcl(value: Any) -> str:
    """An HCL literal as `terraform fmt` writes it: one list item or map entry per line."""
    if isinstance(value, Mapping):
        entries = "".join(f"  {json.dumps(k)} = {json.dumps(v)}\n" for k, v in value.items())
        return "{\n" + entries + "}" if entries else "{}"
    if isinstance(value, list | tuple):
        items = "".join(f"  {json.dumps(v)},\n" for v in value)
        return "[\n" + items + "]" if items else "[]"
    return json.dumps(value)  # JSON strings, numbers and booleans are HCL literals


def terraform_vars(
    config: Config, token_creators: Iterable[str] = (), api_key_generation: int = 1
) -> dict[str, Any]:
    """The module's inputs for the setup `config` describes (the names are variables.tf's)."""
    values: dict[str, Any] = {"project_id": config.project, "create_project": config.create}
    if config.create:
        values["project_name"] = config.display_name or config.project
        if config.folder:
            values["folder_id"] = config.folder.removeprefix("folders/")
        elif config.organization:
            values["org_id"] = config.organization.removeprefix("organizations/")
        values["labels"] = dict(config.labels)
    if config.billing_account:
        values["billing_account"] = config.billing_account
    values |= {
        "services": list(config.services),
        "create_service_account": config.service_account is not None,
        "service_account_id": config.service_account or defaults.SERVICE_ACCOUNT_ID,
        "roles": list(config.roles),
        "impersonators": sorted(token_creators),
        "create_api_key": config.api_key,
        "api_key_type": config.api_key_type,
        "api_key_generation": api_key_generation,
        "create_vertex_express_key": config.vertex_express,
        "location": config.location,
    }
    if config.github_repo:
        values["github_repository"] = config.github_repo
    if config.gitlab_project:
        values["gitlab_project"] = config.gitlab_project
        if GITLAB.issuer(config) != GITLAB.default_issuer:
            values["gitlab_issuer"] = GITLAB.issuer(config)
        if jwks := GITLAB.jwks(config):
            values["gitlab_jwks_json"] = jwks
    return values


def tfvars_text(values: Mapping[str, Any]) -> str:
    """terraform.tfvars; a blank line between settings, so `terraform fmt` has nothing to align."""
    header = "# Written by `gcp-setup export terraform` from the resolved gcp-setup settings.\n"
    return header + "\n".join(f"{name} = {_hcl(value)}\n" for name, value in values.items())


def import_commands(config: Config, observed: Observed) -> list[Import]:
    """A `terraform import` for each resource the module would manage that exists now."""
    project = config.project
    imports: list[Import] = []
    if config.create and observed.project_exists:
        imports.append(Import("google_project.this[0]", project))
    if not config.create and config.billing_account and observed.billing_account == config.billing_account:
        imports.append(Import("google_billing_project_info.this[0]", f"projects/{project}"))
    imports += [
        Import(f"google_project_service.services[{json.dumps(service)}]", f"{project}/{service}")
        for service in config.services
        if service in observed.enabled_services
    ]
    if config.service_account and observed.service_account_exists:
        imports += _service_account_imports(config, observed)
    imports += [Import(address, name) for address, name in observed.api_keys.items()]
    for name, federation in MODULE_FEDERATIONS:
        if federation.subject(config) and name in observed.federations:
            imports += _workload_identity_imports(config, name, federation, observed.federations[name])
    return imports


def _workload_identity_imports(
    config: Config, name: str, federation: Federation, observed: ObservedFederation
) -> list[Import]:
    """The module's WIF resources of one CI system (count = 1 with its variable set); IDs as the provider
    documents them."""
    imports = []
    pool_id, provider_id = federation.pool_id, federation.provider_id
    if observed.pool_exists:
        imports.append(
            Import(f"google_iam_workload_identity_pool.{name}[0]", pool_name(config.project, pool_id))
        )
    if observed.provider_exists:
        provider = provider_name(config.project, pool_id, provider_id)
        imports.append(Import(f"google_iam_workload_identity_pool_provider.{name}[0]", provider))
    if observed.member and config.service_account_email:
        account = service_account_name(config.project, config.service_account_email)
        imports.append(
            Import(
                f"google_service_account_iam_member.{name}_wif[0]",
                f"{account} {WORKLOAD_IDENTITY_USER} {observed.member}",
            )
        )
    return imports


def _service_account_imports(config: Config, observed: Observed) -> list[Import]:
    email = config.service_account_email
    assert email is not None
    account = service_account_name(config.project, email)
    member = service_account_member(email)
    imports = [Import("google_service_account.this[0]", account)]
    imports += [
        Import(f"google_project_iam_member.roles[{json.dumps(role)}]", f"{config.project} {role} {member}")
        for role in config.roles
        if role in observed.granted_roles
    ]
    imports += [
        Import(
            f"google_service_account_iam_member.token_creators[{json.dumps(creator)}]",
            f"{account} {defaults.TOKEN_CREATOR} {creator}",
        )
        for creator in sorted(observed.token_creators)
    ]
    return imports


def observe(config: Config, session: GoogleSession) -> Observed:
    """Read-only calls: which of the module's resources exist in `config.project` now."""
    from gcp_setup.google.billing import BillingClient
    from gcp_setup.google.resourcemanager import ResourceManagerClient
    from gcp_setup.google.serviceusage import ServiceUsageClient

    project = config.project
    info = ResourceManagerClient(session).get_project(project)
    if info is None:
        return Observed()
    enabled = frozenset(
        ServiceUsageClient(session).enabled_among(project, {*config.services, IAM_API, API_KEYS_API})
    )
    observed = Observed(
        project_exists=True,
        billing_account=BillingClient(session).billing_info(project).account,
        enabled_services=enabled,
    )
    if (config.api_key or config.vertex_express) and API_KEYS_API in enabled:
        observed = _with_api_keys(observed, session, config)
    if IAM_API in enabled:
        observed = _with_workload_identity(observed, session, config)
    if config.service_account_email and IAM_API in enabled:
        observed = _with_service_account(observed, session, config, info.number)
    return observed


def _with_api_keys(observed: Observed, session: GoogleSession, config: Config) -> Observed:
    """The current keys, as the key steps pick them. The module names both keys with one generation:
    an express key of another number is left out of the imports (Terraform would replace it)."""
    from gcp_setup.google.apikeys import ApiKeysClient, key_id, key_name
    from gcp_setup.steps.api_key import ApiKeyStep, ExpressKeyStep
    from gcp_setup.steps.base import Context

    keys = ApiKeysClient(session).list(config.project)
    ctx = Context(config, session)
    found: dict[str, tuple[str, int]] = {}
    for address, step in (
        ("google_apikeys_key.this[0]", ApiKeyStep()),
        ("google_apikeys_key.vertex_express[0]", ExpressKeyStep()),
    ):
        if step.enabled(config):
            state = step.sort(ctx, [k for k in keys if step.spec.number(k) is not None])
            if state.key is not None and not state.deleted:  # a deleted key cannot be imported
                name = key_name(config.project, key_id(state.key))  # the provider's import ID: project ID
                found[address] = (name, step.spec.number(state.key) or 0)
    generation = found.get("google_apikeys_key.this[0]", ("", 1))[1] or 1
    return replace(
        observed,
        api_keys={address: name for address, (name, number) in found.items() if number == generation},
        api_key_generation=generation,
    )


def _with_workload_identity(observed: Observed, session: GoogleSession, config: Config) -> Observed:
    client = WorkloadIdentityClient(session)
    found = {}
    for name, federation in MODULE_FEDERATIONS:
        if not federation.subject(config):
            continue
        pool = client.get_pool(config.project, federation.pool_id)
        if pool is None or is_deleted(pool):
            continue
        provider = client.get_provider(config.project, federation.pool_id, federation.provider_id)
        found[name] = ObservedFederation(True, provider is not None and not is_deleted(provider))
    return replace(observed, federations=found)


def _with_service_account(
    observed: Observed, session: GoogleSession, config: Config, project_number: str
) -> Observed:
    from gcp_setup.google.iam import IamClient
    from gcp_setup.google.iam_policy import unconditional_members

    iam = IamClient(session)
    email = config.service_account_email
    assert email is not None
    if iam.get_service_account(config.project, email) is None:
        return observed
    member = service_account_member(email)
    project_policy = iam.project_policy(config.project).get()
    account_policy = iam.service_account_policy(config.project, email).get()
    # The module's member names the pool by its name, which Google answers with the project number.
    bound = unconditional_members(account_policy, WORKLOAD_IDENTITY_USER)
    federations = {}
    for name, federation in MODULE_FEDERATIONS:
        if name in observed.federations:
            principals = federation.member(project_number, federation.subject(config))
            federations[name] = replace(
                observed.federations[name], member=principals if principals in bound else ""
            )
    return replace(
        observed,
        service_account_exists=True,
        granted_roles=frozenset(
            r for r in config.roles if member in unconditional_members(project_policy, r)
        ),
        token_creators=frozenset(unconditional_members(account_policy, defaults.TOKEN_CREATOR)),
        federations=federations,
    )


def export(config: Config, session: GoogleSession) -> Export:
    observed = observe(config, session)
    values = terraform_vars(config, observed.token_creators, observed.api_key_generation)
    return Export(tfvars=tfvars_text(values), imports=import_commands(config, observed))

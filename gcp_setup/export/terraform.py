"""Hand what gcp-setup made over to the Terraform module in terraform/, without recreating anything.

    export(config, session) -> Export      # .tfvars text and the imports; .files(style, module) to write

What exists is what the provisioning steps observe (the engine in status mode: reads only), mapped to
the module's inputs (terraform.tfvars) and to an import of every resource the module would manage that
exists (the GitHub and GitLab federations included), addressed as terraform/main.tf addresses it:
`import {}` blocks (Terraform >= 1.5, the default) or `terraform import` commands (--import-style
script). docs/terraform.md says what is left out and why; tests/export/test_terraform.py holds the
addresses and import IDs against main.tf.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gcp_setup import defaults
from gcp_setup.engine import Engine
from gcp_setup.errors import GoogleApiError
from gcp_setup.google.apikeys import key_id, key_name
from gcp_setup.google.federations import GITHUB, GITLAB, Federation
from gcp_setup.google.iam import service_account_member, service_account_name
from gcp_setup.google.workload_identity import pool_name, provider_name
from gcp_setup.steps import Context, Outcome, load_steps
from gcp_setup.steps.api_key import EXPRESS_KEY, GEMINI_KEY
from gcp_setup.steps.workload_identity import WORKLOAD_IDENTITY_USER

if TYPE_CHECKING:
    from gcp_setup.google.session import GoogleSession
    from gcp_setup.settings.config import Config

log = logging.getLogger(__name__)

TFVARS_FILE = "terraform.tfvars"
IMPORT_FILES = {"blocks": "imports.tf", "script": "import.sh"}
"""--import-style -> the file the imports go to."""


@dataclass(frozen=True)
class Observed:
    """What exists now, of what the module would manage."""

    project_exists: bool = False
    billing_account: str = ""
    """The linked account ("012345-6789AB-CDEF01"), or "" when none."""
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

    def full_address(self, module: str | None) -> str:
        return f"module.{module}.{self.address}" if module else self.address

    def command(self, module: str | None = None) -> str:
        return f"terraform import {shlex.quote(self.full_address(module))} {shlex.quote(self.import_id)}"

    def block(self, module: str | None = None) -> str:
        return f"import {{\n  to = {self.full_address(module)}\n  id = {json.dumps(self.import_id)}\n}}\n"


@dataclass(frozen=True)
class Export:
    tfvars: str
    imports: list[Import] = field(default_factory=list)
    values: Mapping[str, Any] = field(default_factory=dict)
    """The module's inputs the tfvars hold (a fleet's export writes them into one map)."""

    def import_script(self, module: str | None = None) -> str:
        lines = [
            "#!/bin/sh",
            "# Adopt what gcp-setup created into the Terraform state (run in the root module's directory).",
            "set -e",
            *(i.command(module) for i in self.imports),
        ]
        return "\n".join(lines) + "\n"

    def import_blocks(self, module: str | None = None) -> str:
        """imports.tf for the root module: `terraform plan` shows the imports, `terraform apply` does them."""
        header = "# Adopt what gcp-setup created into the Terraform state (Terraform >= 1.5).\n"
        return header + "".join("\n" + i.block(module) for i in self.imports)

    def files(self, import_style: str, module: str | None = None) -> dict[str, str]:
        """File name -> content: the tfvars, and the imports in `import_style` ("blocks" or "script")."""
        imports = self.import_blocks(module) if import_style == "blocks" else self.import_script(module)
        return {TFVARS_FILE: self.tfvars, IMPORT_FILES[import_style]: imports}


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


EXPORT_STEPS: tuple[str, ...] = (
    "gcp_setup.steps.project:ProjectStep",
    "gcp_setup.steps.billing:BillingStep",
    "gcp_setup.steps.services:ServicesStep",
    "gcp_setup.steps.service_account:ServiceAccountStep",
    "gcp_setup.steps.roles:RolesStep",
    "gcp_setup.steps.token_creators:TokenCreatorsStep",
    "gcp_setup.steps.api_key:ApiKeyStep",
    "gcp_setup.steps.api_key:ExpressKeyStep",
    "gcp_setup.steps.workload_identity:WorkloadIdentityStep",
    "gcp_setup.steps.workload_identity:GitlabIdentityStep",
)
"""The steps whose resources the module manages (credentials and .env writers are local: not exported)."""


def observe(config: Config, session: GoogleSession) -> Observed:
    """What the steps observe (status mode: read-only), mapped to the module's resources. Google's
    error on a read (after the retry policy) is raised: imports left out for it would have Terraform
    create what exists. A step that fails otherwise (a project that does not exist yet, billing not
    linked) exports nothing, nor do the steps it blocks; a warning says why."""
    run = Engine().run(load_steps(EXPORT_STEPS, config), Context(config, session), "status")
    failed = [r for r in run.results if r.outcome is Outcome.FAILED]
    remote = next((r.error for r in failed if isinstance(r.error, GoogleApiError)), None)
    if remote is not None:
        raise remote
    for result in failed:
        log.warning("%s: %s; its resources are left out of the imports", result.name, result.detail)
    outputs = {r.name: r.outputs for r in run.results if r.outcome not in (Outcome.FAILED, Outcome.BLOCKED)}
    return _observed(config, outputs)


def _observed(config: Config, outputs: Mapping[str, Mapping[str, Any]]) -> Observed:
    project = outputs.get("project", {})
    if not project.get("number"):  # the project step publishes a number only for a project that exists
        return Observed()
    account = outputs.get("service_account", {})
    keys, generation = _current_keys(config, outputs)
    return Observed(
        project_exists=True,
        billing_account=outputs.get("billing", {}).get("account", ""),
        enabled_services=frozenset(outputs.get("services", {}).get("enabled", ())),
        service_account_exists=bool(account.get("exists")),
        granted_roles=frozenset(outputs.get("roles", {}).get("granted_roles", ())),
        token_creators=frozenset(outputs.get("token_creators", {}).get("members", ())),
        api_keys=keys,
        api_key_generation=generation,
        federations={
            name: _observed_federation(outputs[federation.step])
            for name, federation in MODULE_FEDERATIONS
            if federation.step in outputs
        },
    )


def _observed_federation(wif: Mapping[str, Any]) -> ObservedFederation:
    pool = bool(wif.get("pool_exists"))
    member = wif.get("member", "") if wif.get("bound") else ""
    return ObservedFederation(pool, pool and bool(wif.get("provider_exists")), member)


def _current_keys(config: Config, outputs: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, str], int]:
    """(address -> key name, generation) of the current keys the key steps found (a deleted key cannot be
    imported). The module names both keys with one generation: an express key of another number is left
    out (Terraform would replace it)."""
    found: dict[str, tuple[str, int]] = {}
    for address, step, spec in (
        ("google_apikeys_key.this[0]", "api_key", GEMINI_KEY),
        ("google_apikeys_key.vertex_express[0]", "express_key", EXPRESS_KEY),
    ):
        key = outputs.get(step, {})
        if key.get("exists"):
            # The provider's import ID names the project by its ID; Google's key names carry the number.
            name = key_name(config.project, key_id(key))
            found[address] = (name, spec.number({"name": name}) or 0)
    generation = found.get("google_apikeys_key.this[0]", ("", 1))[1] or 1
    return {address: name for address, (name, number) in found.items() if number == generation}, generation


def export(config: Config, session: GoogleSession) -> Export:
    """The tfvars and the imports for the setup `config` describes, as it exists now (read-only)."""
    observed = observe(config, session)
    values = terraform_vars(config, observed.token_creators, observed.api_key_generation)
    return Export(tfvars=tfvars_text(values), imports=import_commands(config, observed), values=values)

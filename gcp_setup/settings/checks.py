"""The settings' checks: a parsed value -> the value Config holds, or a UsageError naming the fix. Each
refuses what Google would (its documented rules for IDs, names and locations), or normalises."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from gcp_setup import defaults, envvars
from gcp_setup.errors import UsageError

CREDENTIAL_MODES = ("user", "impersonate", "key-file", "none")
IMPORT_STYLES = ("blocks", "script")
"""export terraform: `import {}` blocks (Terraform >= 1.5), or a script of `terraform import` commands."""

# Google's documented rules: https://cloud.google.com/resource-manager/docs/creating-managing-projects
RESERVED_PROJECT_WORDS = ("google", "null", "undefined", "ssl")
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_ROLE = re.compile(r"^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[a-z0-9-]+/roles/[A-Za-z0-9_.]+)$")
_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9'\" !-]{4,30}$")
_LOCATION = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_MEMBER = re.compile(r"^(?:(?:user|serviceAccount|group):)?[^@\s:]+@[^@\s]+\.[^@\s]+$")
_HOST_PORT = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$")


def project_id_problem(project: str) -> str | None:
    """What is wrong with a project ID, or None when it is valid."""
    if not 6 <= len(project) <= 30:
        return f"is {len(project)} characters long; it must have 6 to 30"
    if not project[0].isascii() or not project[0].islower() or not project[0].isalpha():
        return "must start with a lowercase letter"
    bad = sorted({c for c in project if not (c.isascii() and (c.islower() or c.isdigit() or c == "-"))})
    if bad:
        return f"contains {''.join(bad)!r}; only lowercase letters, digits and hyphens are allowed"
    if project.endswith("-"):
        return "must not end with a hyphen"
    for word in RESERVED_PROJECT_WORDS:
        if word in project:
            return f"must not contain the reserved word {word!r}"
    return None


def check_project(project: str | None) -> str | None:
    problem = project_id_problem(project) if project is not None else None
    if problem:
        raise UsageError(f"project ID {project!r} {problem}")
    return project


def _parent(kind: str) -> Callable[[str | None], str | None]:
    def normalised(value: str | None) -> str | None:
        if value is None:
            return None
        number = value.removeprefix(f"{kind}/")
        if not number.isdigit():
            raise UsageError(f"{kind[:-1]} {value!r} is not numeric; use e.g. --{kind[:-1]} 123456789012")
        return f"{kind}/{number}"

    return normalised


def check_billing_account(value: str | None) -> str | None:
    if value is None:
        return None
    account = value.removeprefix("billingAccounts/").upper()
    if not _BILLING_ACCOUNT.match(account):
        raise UsageError(
            f"billing account {value!r} is not like 012345-6789AB-CDEF01; "
            "list yours with `gcloud billing accounts list`"
        )
    return account


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        if len(key) > 63:
            raise UsageError(
                f"label key {key[:20]}... is {len(key)} characters long; Google allows at most 63"
            )
        if not _LABEL_KEY.match(key):
            raise UsageError(
                f"label key {key!r} must be lowercase letters, digits, _ or -, starting with a letter"
            )
        if len(value) > 63:
            raise UsageError(
                f"label value of {key} is {len(value)} characters long; Google allows at most 63"
            )
        if not _LABEL_VALUE.match(value):
            raise UsageError(f"label value {value!r} (of {key}) must be lowercase letters, digits, _ or -")
    return dict(labels)


def _matching(pattern: re.Pattern[str], message: str) -> Callable[[str | None], str | None]:
    """A check that a value, when given, matches `pattern`; `message` is formatted with it."""

    def check(value: str | None) -> str | None:
        if value is not None and not pattern.match(value):
            raise UsageError(message.format(value=value))
        return value

    return check


def check_location(location: str | None) -> str:
    if not location:
        raise UsageError("location is empty; use e.g. --location global or --location us-central1")
    if not _LOCATION.match(location):
        raise UsageError(f"location {location!r} is not a location name; use e.g. global or us-central1")
    return location


def check_services(services: tuple[str, ...]) -> tuple[str, ...]:
    for name in services:
        if "." not in name:
            raise UsageError(
                f"service {name!r} is not a service name; use e.g. --services storage.googleapis.com"
            )
    return services


def check_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    for role in roles:
        if not _ROLE.match(role):
            raise UsageError(f"role {role!r} is not a role name; use e.g. --role roles/aiplatform.user")
    return roles


def _one_of(what: str, choices: tuple[str, ...], flag: str) -> Callable[[str | None], str]:
    """A check that a value is one of `choices`; none given is the first, the default."""

    def check(value: str | None) -> str:
        value = value or choices[0]
        if value not in choices:
            raise UsageError(f"{what} {value!r} is unknown; use one of {', '.join(choices)} ({flag})")
        return value

    return check


check_organization = _parent("organizations")
check_folder = _parent("folders")
check_display_name = _matching(
    _DISPLAY_NAME,
    "display name {value!r} must be 4 to 30 letters, digits, spaces, quotes, hyphens or exclamation points",
)
check_service_account_id = _matching(
    _SERVICE_ACCOUNT_ID,
    "service account ID {value!r} must be 6-30 lowercase letters, digits or hyphens, starting with a letter",
)
check_impersonator = _matching(
    _MEMBER, "impersonator {value!r} is not an account; use e.g. user:you@example.com"
)
check_key_type = _one_of("API key type", defaults.API_KEY_TYPES, "--api-key-type")
check_credentials = _one_of("credentials mode", CREDENTIAL_MODES, "--credentials")
check_import_style = _one_of("import style", IMPORT_STYLES, "--import-style")


def as_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def check_emulator_host(value: str | None) -> str | None:
    if not value:
        return None
    host = value.removeprefix("http://").rstrip("/")
    if not _HOST_PORT.match(host):
        raise UsageError(
            f"emulator host {host!r} is not HOST:PORT; use e.g. --emulator-host 127.0.0.1:8085 "
            f"or export {envvars.EMULATOR_HOST}=127.0.0.1:8085"
        )
    return host

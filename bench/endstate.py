"""The end state of one project, read from the emulator's /_emulator/state, in a form that two runs (gcp-setup
and the gcloud script) can be compared by: what was set up, without numbers, times, etags or secrets.

Services count only when requested (gcp_setup.defaults.SERVICES): `gcloud projects create` also turns on
cloudapis.googleapis.com and its dependencies, as it does against Google.
"""

from __future__ import annotations

from typing import Any

from harness import BenchError

from gcp_setup.defaults import SERVICES


def summary(state: dict[str, Any], project_id: str) -> dict[str, Any]:
    backends = state["backends"]
    try:
        project = _project(backends, project_id)
        number = project["number"]
        return {
            "project": project["state"],
            "billing account": backends["billing"]["links"].get(project_id, ""),
            "services": sorted(set(SERVICES) & set(backends["services"]["enabled"].get(number, {}))),
            "service accounts": _service_accounts(backends, project_id),
            "project role bindings": _bindings_for_service_accounts(project["policy"]),
            "api keys": _api_keys(backends, number),
        }
    except KeyError as exc:
        raise BenchError(f"the emulator's /_emulator/state has no {exc}: has its format changed?") from exc


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    return [
        f"{key}: gcp-setup {ours.get(key)!r} != gcloud script {theirs.get(key)!r}"
        for key in sorted(set(ours) | set(theirs))
        if ours.get(key) != theirs.get(key)
    ]


def require_same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    diff = differences(ours, theirs)
    if diff:
        raise BenchError(
            "gcp-setup and the gcloud script did not reach the same end state:\n  " + "\n  ".join(diff)
        )


def require_complete(summary_: dict[str, Any], what: str) -> None:
    """A finished bootstrap has every part; an empty one on both sides would compare equal."""
    missing = [key for key, value in summary_.items() if not value]
    missing += [f"service {s}" for s in SERVICES if s not in summary_["services"]]
    if missing:
        raise BenchError(f"{what} left the project without: {', '.join(missing)}")


def _project(backends: dict[str, Any], project_id: str) -> dict[str, Any]:
    for project in backends["projects"]["projects"]:
        if project["project_id"] == project_id:
            return project
    raise BenchError(f"project {project_id} does not exist on the emulator")


def _bindings_for_service_accounts(policy: dict[str, Any]) -> list[str]:
    """The project's role bindings of service accounts (the creator's own owner binding differs by caller
    on purpose and is not part of the setup)."""
    return sorted(
        f"{b['role']} {m}"
        for b in policy.get("bindings", [])
        for m in b.get("members", [])
        if m.startswith("serviceAccount:")
    )


def _service_accounts(backends: dict[str, Any], project_id: str) -> list[str]:
    return sorted(a["account_id"] for a in backends["iam"]["accounts"] if a["project_id"] == project_id)


def _api_keys(backends: dict[str, Any], number: str) -> list[dict[str, Any]]:
    live = [
        k for k in backends["apikeys"]["keys"] if k["project_number"] == number and k["delete_time"] is None
    ]
    return sorted(
        (
            {
                "key id": k["key_id"],
                "restrictions": k["restrictions"],
                "bound to": k.get("service_account_email"),
            }
            for k in live
        ),
        key=lambda k: k["key id"],
    )

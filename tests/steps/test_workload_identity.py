"""Workload Identity Federation for GitHub Actions, end to end through real HTTP against the emulator:
`apply --github-repo` creates (adopts, undeletes) the pool, the provider and the binding; a second run
writes nothing; a run cut off after any write is finished by the next; `destroy` removes it all; and a
google-auth `external_account` credential (what google-github-actions/auth writes) works with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import federation
import pytest
import requests
from click.testing import CliRunner
from conftest import reset_keeping_the_login

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

PROJECT = "wif-ci-1"
REPO = "octo/app"
CREATE = [
    "--project",
    PROJECT,
    "--create",
    "--billing-account",
    OPEN_ACCOUNT.removeprefix("billingAccounts/"),
]
WIF = [*CREATE, "--github-repo", REPO, "--no-api-key"]
SA_EMAIL = f"{defaults.SERVICE_ACCOUNT_ID}@{PROJECT}.iam.gserviceaccount.com"


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def apply_json(*args: str) -> dict:
    result = gcp_setup("apply", *args, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    return {s["name"]: s for s in json.loads(result.stdout)["steps"]}


def wif_state(emu) -> list[dict]:
    return emu.state()["backends"]["workload_identity"]["pools"]


sa_members = federation.sa_members


def test_apply_sets_up_federation_and_a_second_apply_writes_nothing(provision_env) -> None:
    first = gcp_setup("apply", *WIF, "--yes")
    assert first.exit_code == 0, first.output
    assert "workload_identity  created" in first.stdout
    assert "- uses: google-github-actions/auth@v2" in first.stdout  # the workflow step, no secret in it
    assert f"      service_account: {SA_EMAIL}" in first.stdout

    [pool] = wif_state(provision_env)
    assert pool["pool_id"] == "github" and pool["deleted_at"] is None
    provider = pool["providers"]["github-actions"]
    assert provider["issuer_uri"] == defaults.GITHUB_OIDC_ISSUER
    assert provider["attribute_mapping"] == defaults.GITHUB_ATTRIBUTE_MAPPING
    assert provider["attribute_condition"] == f'assertion.repository == "{REPO}"'
    number = pool["project_number"]
    assert sa_members(provision_env) == {
        f"principalSet://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/github"
        f"/attribute.repository/{REPO}"
    }

    provision_env.clear_requests()
    steps = apply_json(*WIF)
    assert steps["workload_identity"]["outcome"] == "unchanged"
    assert steps["workload_identity"]["outputs"]["workload_identity_provider"] == (
        f"projects/{number}/locations/global/workloadIdentityPools/github/providers/github-actions"
    )
    assert provision_env.writes() == []
    wif_reads = [r for r in provision_env.requests() if "workloadIdentityPools" in r["path"]]
    assert len(wif_reads) == 2  # the pool and the provider (plus the account's policy)


def github_token(provider: str, repository: str = REPO) -> str:
    return federation.github_token(repository, provider)


def external_account_file(tmp_path: Path, emu, provider: str, token: str, impersonate: bool = True) -> Path:
    """The credentials file google-github-actions/auth writes, its subject token read from a file; with
    `service_account` the federated token impersonates it, without it the pool's identity is used as is."""
    (tmp_path / "github-oidc-token").write_text(token)
    sa_url = federation.impersonation_url(emu.url, SA_EMAIL) if impersonate else None
    info = federation.external_account_info(
        f"{emu.url}/v1/token", f"//iam.googleapis.com/{provider}", tmp_path / "github-oidc-token", sa_url
    )
    path = tmp_path / "gha-creds.json"
    path.write_text(json.dumps(info))
    return path


def use_credentials(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    federation.use_credentials(monkeypatch, path, PROJECT)


verify_checks = federation.verify_checks


def test_a_github_token_authenticates_as_the_service_account(provision_env, tmp_path, monkeypatch) -> None:
    """What a workflow does after google-github-actions/auth: ADC is an external_account file; STS
    exchanges the OIDC token, the federated token impersonates the account, Vertex AI answers."""
    provider = apply_json(*WIF)["workload_identity"]["outputs"]["workload_identity_provider"]
    use_credentials(
        monkeypatch, external_account_file(tmp_path, provision_env, provider, github_token(provider))
    )

    checks = verify_checks("credentials", "vertex")
    assert checks["credentials"]["status"] == "passed", checks
    assert "external account (Workload Identity Federation)" in checks["credentials"]["detail"]
    assert f"principal serviceAccount:{SA_EMAIL}" in checks["credentials"]["detail"]
    assert checks["vertex"]["status"] == "passed", checks

    # Another repository's workflow is refused by the provider's attribute condition.
    use_credentials(
        monkeypatch,
        external_account_file(tmp_path, provision_env, provider, github_token(provider, "evil/fork")),
    )
    refused = verify_checks("credentials")["credentials"]
    assert refused["status"] == "failed" and "attribute condition" in refused["detail"]

    # Direct federation (no service_account input): the principal is an identity of the pool.
    direct = external_account_file(
        tmp_path, provision_env, provider, github_token(provider), impersonate=False
    )
    use_credentials(monkeypatch, direct)
    pool = provider.split("/providers/")[0]
    assert (
        f"principal principalSet://iam.googleapis.com/{pool}/*"
        in verify_checks("credentials")["credentials"]["detail"]
    )


def destroy_json(*args: str) -> dict:
    result = gcp_setup("destroy", *args, "--yes", "--format", "json")
    assert result.exit_code == 0, result.output
    return {s["name"]: s for s in json.loads(result.stdout)["steps"]}


def test_destroy_removes_binding_provider_and_pool_and_a_second_destroy_is_a_no_op(provision_env) -> None:
    apply_json(*WIF)
    steps = destroy_json("--project", PROJECT)  # no --github-repo needed: the pool says it is ours
    assert steps["workload_identity"]["outcome"] == "deleted", steps["workload_identity"]
    [pool] = wif_state(provision_env)
    assert pool["deleted_at"] is not None and pool["providers"]["github-actions"]["deleted_at"] is not None
    assert provision_env.state()["backends"]["iam"]["accounts"] == []  # deleted after its binding went

    provision_env.clear_requests()
    again = destroy_json("--project", PROJECT, "--github-repo", REPO)
    assert {s["outcome"] for s in again.values()} <= {"unchanged", "skipped"}
    assert provision_env.writes() == []


def test_a_soft_deleted_pool_is_undeleted_and_federation_works_again(provision_env) -> None:
    apply_json(*WIF)
    destroy_json("--project", PROJECT)  # deletes the account too: apply makes a new one
    steps = apply_json(*WIF)
    actions = [a["summary"] for a in steps["workload_identity"]["actions"]]
    assert actions[:2] == ["undelete workload identity pool github", "undelete provider github-actions"]
    [pool] = wif_state(provision_env)
    assert pool["deleted_at"] is None and pool["providers"]["github-actions"]["deleted_at"] is None
    provision_env.clear_requests()
    apply_json(*WIF)
    assert provision_env.writes() == []


def test_a_disabled_pool_and_provider_are_enabled_again(provision_env, tmp_path, monkeypatch) -> None:
    provider = apply_json(*WIF)["workload_identity"]["outputs"]["workload_identity_provider"]
    for name in (provider.split("/providers/")[0], provider):  # as someone might, in the console
        url = f"{provision_env.url}/v1/{name}"
        requests.patch(
            url, params={"updateMask": "disabled"}, json={"disabled": True}, timeout=10
        ).raise_for_status()
    user = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
    ci = external_account_file(tmp_path, provision_env, provider, github_token(provider))
    use_credentials(monkeypatch, ci)
    assert verify_checks("credentials")["credentials"]["status"] == "failed"  # STS refuses a disabled pool

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", user)  # the admin fixes it, as herself
    actions = [a["summary"] for a in apply_json(*WIF)["workload_identity"]["actions"]]
    assert actions == ["enable workload identity pool github", "enable provider github-actions"]
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(ci))
    assert verify_checks("credentials")["credentials"]["status"] == "passed"


@pytest.mark.gcloud
def test_pool_and_provider_made_with_gcloud_are_adopted_fixed_and_kept_by_destroy(
    provision_env, gcloud
) -> None:
    """gcloud made both, with a looser condition (the whole owner) and a smaller mapping: apply patches
    the provider (Google's update mask: attributeMapping, attributeCondition), creates nothing, and destroy
    removes only the binding."""
    apply_json(*CREATE, "--no-api-key")
    wif = ["iam", "workload-identity-pools"]
    gcloud.run(*wif, "create", "github", "--location=global", "--display-name=made by hand", project=PROJECT)
    gcloud.run(
        *wif,
        "providers",
        "create-oidc",
        "github-actions",
        "--location=global",
        "--workload-identity-pool=github",
        f"--issuer-uri={defaults.GITHUB_OIDC_ISSUER}",
        "--attribute-mapping=google.subject=assertion.sub",
        "--attribute-condition=assertion.repository_owner == 'octo'",
        project=PROJECT,
    )
    provision_env.clear_requests()
    steps = apply_json(*WIF)
    assert [w["method_id"].rsplit(".", 1)[-1] for w in provision_env.writes()] == [
        "batchEnable",
        "patch",
        "setIamPolicy",
    ]
    assert steps["workload_identity"]["actions"][0]["summary"] == (
        "set attributeMapping, attributeCondition of provider github-actions"
    )
    describe = [
        *wif,
        "providers",
        "describe",
        "github-actions",
        "--location=global",
        "--workload-identity-pool=github",
    ]
    provider = gcloud.json(*describe, project=PROJECT)
    assert provider["attributeCondition"] == defaults.github_attribute_condition(REPO)
    assert provider["attributeMapping"] == defaults.GITHUB_ATTRIBUTE_MAPPING

    destroy_json("--project", PROJECT, "--github-repo", REPO)
    assert gcloud.json(*describe, project=PROJECT)["state"] == "ACTIVE"  # not ours to delete


def test_a_run_cut_off_after_any_write_is_finished_by_the_next(provision_env) -> None:
    """The emulator applies the N-th write of the federation part (enable STS, create pool, create
    provider, grant), then hangs up; the next run finishes without duplicates, the next writes nothing."""
    apply_json(*CREATE, "--no-api-key")
    before = len(provision_env.writes())
    apply_json(*WIF)
    federation_writes = len(provision_env.writes()) - before
    assert federation_writes == 4
    for n in range(1, federation_writes + 1):
        reset_keeping_the_login(provision_env)
        apply_json(*CREATE, "--no-api-key")
        provision_env.set_realism(drop_after_writes=before + n)
        gcp_setup("apply", *WIF, "--yes")  # the client may recover by itself (a 409 adopts); or fail
        provision_env.set_realism(drop_after_writes=None)
        apply_json(*WIF)
        provision_env.clear_requests()
        assert apply_json(*WIF)["workload_identity"]["outcome"] == "unchanged", n
        assert provision_env.writes() == [], n
        [pool] = wif_state(provision_env)
        assert list(pool["providers"]) == ["github-actions"]


def test_every_federation_answer_matches_its_discovery_schema(emu, make_project) -> None:
    """Walk every Workload Identity method the emulator serves; each answer, and each operation's
    result, validates against Google's discovery schema."""
    from schema_check import method_response_problems, problems

    from gcp_setup.emulator.core.routes import ROUTES

    make_project("wif-schema-walk", services=("iam.googleapis.com",))
    pools, m = "v1/projects/wif-schema-walk/locations/global/workloadIdentityPools", "iam.projects.locations."
    answers: list[tuple[str, dict]] = []

    def call(method_id: str, verb: str, path: str, body: dict | None = None, **params: str) -> dict:
        response = requests.request(verb, f"{emu.url}/{path}", json=body, params=params, timeout=10)
        assert response.status_code == 200, (method_id, response.text)
        answers.append((m + method_id, response.json()))
        return response.json()

    op = call(
        "workloadIdentityPools.create", "POST", pools, {"displayName": "CI"}, workloadIdentityPoolId="ci-pool"
    )
    call("workloadIdentityPools.operations.get", "GET", f"v1/{op['name']}")
    pool = f"{pools}/ci-pool"
    provider_body = {
        "oidc": {"issuerUri": defaults.GITHUB_OIDC_ISSUER},
        "attributeMapping": defaults.GITHUB_ATTRIBUTE_MAPPING,
        "attributeCondition": defaults.github_attribute_condition(REPO),
    }
    op = call(
        "workloadIdentityPools.providers.create",
        "POST",
        f"{pool}/providers",
        provider_body,
        workloadIdentityPoolProviderId="gha-oidc",
    )
    call("workloadIdentityPools.providers.operations.get", "GET", f"v1/{op['name']}")
    provider = f"{pool}/providers/gha-oidc"
    call("workloadIdentityPools.providers.get", "GET", provider)
    call(
        "workloadIdentityPools.providers.patch",
        "PATCH",
        provider,
        {"displayName": "GitHub"},
        updateMask="displayName",
    )
    call("workloadIdentityPools.providers.list", "GET", f"{pool}/providers")
    call("workloadIdentityPools.providers.delete", "DELETE", provider)
    call("workloadIdentityPools.providers.undelete", "POST", f"{provider}:undelete", {})
    call("workloadIdentityPools.get", "GET", pool)
    call("workloadIdentityPools.patch", "PATCH", pool, {"disabled": True}, updateMask="disabled")
    call("workloadIdentityPools.list", "GET", pools)
    call("workloadIdentityPools.delete", "DELETE", pool)
    call("workloadIdentityPools.list", "GET", pools, showDeleted="true")
    call("workloadIdentityPools.undelete", "POST", f"{pool}:undelete", {})

    found = [f"{mid}: {p}" for mid, body in answers for p in method_response_problems("iam.v1", mid, body)]
    for mid, body in answers:
        result = dict(body.get("response") or {})
        if result:  # an operation's result: the pool or the provider, typed
            schema = result.pop("@type").removeprefix("type.googleapis.com/google.iam.v1.")
            found += [f"{mid} (operation response): {p}" for p in problems("iam.v1", schema, result)]
    assert found == []
    served = {r.method_id for r in ROUTES if r.method_id.startswith(m + "workloadIdentityPools.")}
    assert {mid for mid, _ in answers} == served


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("octo", "GitHub repository 'octo' is not OWNER/REPO"),
        ("-octo/app", "is not OWNER/REPO"),
        ("octo/..", "is not OWNER/REPO"),
        ("https://github.com/octo/app", "is not OWNER/REPO"),
    ],
)
def test_a_bad_repository_is_a_usage_error(clean_config, value, message) -> None:
    result = gcp_setup("plan", "--project", PROJECT, "--github-repo", value)
    assert result.exit_code == 2 and message in result.stderr


def test_the_repository_comes_from_env_or_toml_and_adds_sts(clean_config, monkeypatch) -> None:
    from gcp_setup.commands.options import load_config

    (clean_config / "gcp-setup.toml").write_text(f'project = "{PROJECT}"\ngithub-repo = "{REPO}"\n')
    config = load_config({})
    assert config.github_repo == REPO and config.sources["github_repo"] == "gcp-setup.toml github-repo"
    assert "sts.googleapis.com" in config.services
    monkeypatch.setenv("GCP_SETUP_GITHUB_REPO", "octo/other")
    assert load_config({}).github_repo == "octo/other"
    refused = gcp_setup("plan", "--no-service-account")
    assert refused.exit_code == 2 and "--github-repo needs the service account" in refused.stderr
    (clean_config / "gcp-setup.toml").unlink()
    monkeypatch.delenv("GCP_SETUP_GITHUB_REPO")
    assert "sts.googleapis.com" not in load_config({"project": PROJECT}).services


CLAIMS = {"sub": "repo:octo/app:ref:refs/heads/main", "repository": "octo/app", "ref": "refs/heads/main"}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ('assertion.repository == "octo/app"', True),
        ("assertion.repository == 'octo/other'", False),
        ("assertion.repository != 'octo/other' && assertion.ref.startsWith('refs/heads/')", True),
        ("attribute.repository in ['a/b', 'octo/app'] || false", True),
        (
            "!(assertion.missing == 'x') && "
            "google.subject == 'repo:' + assertion.repository + ':ref:' + assertion.ref",
            True,
        ),
        ("assertion.ref.startsWith('refs/tags/')", False),
    ],
)
def test_the_emulator_evaluates_the_cel_that_providers_use(condition: str, holds: bool) -> None:
    from gcp_setup.emulator.core.cel import condition_holds, map_attributes

    attributes = map_attributes(defaults.GITHUB_ATTRIBUTE_MAPPING, CLAIMS)
    assert attributes["google.subject"] == CLAIMS["sub"] and "attribute.repository_owner" not in attributes
    assert condition_holds(condition, CLAIMS, attributes) is holds


def test_the_emulator_refuses_cel_it_does_not_model(emu, make_project) -> None:
    make_project("wif-cel-1", services=("iam.googleapis.com",))
    pools = f"{emu.url}/v1/projects/wif-cel-1/locations/global/workloadIdentityPools"
    requests.post(pools, params={"workloadIdentityPoolId": "github"}, json={}, timeout=10).raise_for_status()
    body = {
        "oidc": {"issuerUri": defaults.GITHUB_OIDC_ISSUER},
        "attributeMapping": {"google.subject": "assertion.sub"},
        "attributeCondition": "assertion.repository.matches('octo/.*')",
    }
    answer = requests.post(
        f"{pools}/github/providers",
        params={"workloadIdentityPoolProviderId": "github-actions"},
        json=body,
        timeout=10,
    )
    assert answer.status_code == 400 and "not supported by the emulator" in answer.json()["error"]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_apply_converges_under_faults_and_slow_operations(provision_env, seed) -> None:
    provision_env.set_realism(fault_rate=0.2, seed=seed, operation_polls=2, service_account_propagation_s=0.2)
    assert apply_json(*WIF, "--no-verify")["workload_identity"]["outcome"] == "created"
    provision_env.set_realism(fault_rate=0)
    provision_env.clear_requests()
    assert apply_json(*WIF, "--no-verify")["workload_identity"]["outcome"] == "unchanged"
    assert provision_env.writes() == []
    [pool] = wif_state(provision_env)
    assert list(pool["providers"]) == ["github-actions"]

"""The real gcloud CLI against the emulator: `gcloud services enable/disable/list`."""

from __future__ import annotations

import pytest

from gcp_setup.emulator.serviceusage.models import DEFAULT_SERVICES

pytestmark = pytest.mark.gcloud

PROJECT = "gcloud-services-project"


@pytest.fixture
def project(crm_v1) -> str:
    crm_v1.projects().create(body={"projectId": PROJECT}).execute()
    return PROJECT


def enabled(gcloud, project: str) -> list[str]:
    """What gcloud lists beyond the services a new project starts with."""
    listed = gcloud.json("services", "list", project=project)
    return [s["config"]["name"] for s in listed if s["config"]["name"] not in DEFAULT_SERVICES]


def test_enable_list_disable(gcloud, project: str) -> None:
    gcloud.run(
        "services", "enable", "iam.googleapis.com", "generativelanguage.googleapis.com", project=project
    )
    assert enabled(gcloud, project) == ["generativelanguage.googleapis.com", "iam.googleapis.com"]
    gcloud.run("services", "disable", "iam.googleapis.com", project=project)
    assert enabled(gcloud, project) == ["generativelanguage.googleapis.com"]
    available = gcloud.json("services", "list", "--available", project=project)
    assert {"iam.googleapis.com", "aiplatform.googleapis.com"} <= {s["config"]["name"] for s in available}


def test_unknown_service_and_missing_billing_fail(gcloud, project: str) -> None:
    unknown = gcloud.run("services", "enable", "nope.googleapis.com", project=project, check=False)
    assert unknown.returncode != 0 and "SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED" in unknown.stderr
    unbilled = gcloud.run("services", "enable", "aiplatform.googleapis.com", project=project, check=False)
    assert unbilled.returncode != 0 and "Billing must be enabled" in unbilled.stderr

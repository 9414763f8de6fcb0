"""workflow/project.py: what Google can judge (a billing account, a service, a role) is refused before any
write, as one line without the request's URL."""

from __future__ import annotations

import pytest
from safety_kit import PROJECT, error_line, gcp_setup


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ("--billing-account", "000000-000000-000000"),
            "billing account 000000-000000-000000 does not exist",
        ),
        (("--services", "stroage.googleapis.com"), "Google knows no service stroage.googleapis.com"),
        (("--role", "roles/aiplatform.usr"), "Google knows no role roles/aiplatform.usr"),
    ],
)
def test_what_google_does_not_know_is_refused_before_the_project_is_created(home_env, flags, message):
    result = gcp_setup("apply", "--project", PROJECT, "--create", "--yes", *flags)
    assert result.exit_code == 2, result.output
    assert error_line(result).startswith(f"Error: {message}")
    assert home_env.writes() == []


def test_an_error_line_drops_the_request_url_and_long_text():
    from gcp_setup.google.errors import readable

    url = "http://127.0.0.1:1/v1/projects/p/services:batchGet?" + "&".join(f"names=s{i}" for i in range(60))
    assert readable(f"GET {url}: Not found or permission denied for service(s): x.", 403) == (
        "Not found or permission denied for service(s): x."
    )
    assert len(readable("word " * 200, 400)) == 300

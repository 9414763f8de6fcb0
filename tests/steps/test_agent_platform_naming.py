"""Google renamed Vertex AI "Gemini Enterprise Agent Platform" (April 2026; its "Vertex AI name changes"
page): user-facing text says "Agent Platform (Vertex AI)", so that both names find it, while check names,
the service and the roles keep their old names."""

from __future__ import annotations

from click.testing import CliRunner

from gcp_setup import defaults
from gcp_setup.cli import cli
from gcp_setup.verify import CHECKS


def test_help_says_both_names() -> None:
    for command in ([], ["verify"], ["apply"]):
        text = " ".join(CliRunner().invoke(cli, [*command, "--help"]).output.split())  # unwrapped
        assert "Agent Platform (Vertex AI)" in text, command


def test_check_titles_use_the_new_name_and_names_stay() -> None:
    titles = {c.name: c.title for c in CHECKS}
    for name in ("vertex", "vertex-express", "openai-vertex"):
        assert defaults.VERTEX_AI in titles[name]
    assert defaults.VERTEX_AI_API == "aiplatform.googleapis.com"
    assert all(role.startswith("roles/aiplatform.") for role in (*defaults.ROLES, defaults.EXPRESS_ROLE))

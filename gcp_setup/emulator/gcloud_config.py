"""A throwaway gcloud configuration that points the real gcloud CLI at the emulator.

One list of properties, rendered two ways: as the `gcloud config set` lines `gcp-setup emulator` prints
for a person, and as the configuration file those lines would leave behind (tests and benchmarks write
it directly rather than pay gcloud's 0.4 s start-up per property). Never the user's own configuration.
"""

from __future__ import annotations

from pathlib import Path

GCLOUD_APIS = (
    "cloudresourcemanager",
    "serviceusage",
    "iam",
    "apikeys",
    "cloudbilling",
    "orgpolicy",
    "iamcredentials",
)

_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("auth", "disable_credentials", "true"),
    ("core", "check_gce_metadata", "false"),
    ("core", "disable_usage_reporting", "true"),
    ("component_manager", "disable_update_check", "true"),
    ("core", "disable_prompts", "true"),
)


def _properties(emulator_url: str) -> list[tuple[str, str, str]]:
    overrides = [("api_endpoint_overrides", api, f"{emulator_url}/") for api in GCLOUD_APIS]
    return [*_PROPERTIES, *overrides]  # the trailing / is required by gcloud


def gcloud_setup_lines(emulator_url: str) -> list[str]:
    """Shell lines that point a throwaway gcloud configuration at the emulator."""
    return ["export CLOUDSDK_CONFIG=$(mktemp -d)"] + [
        f"gcloud config set {section}/{name} {value}" for section, name, value in _properties(emulator_url)
    ]


def write_gcloud_config(config_dir: Path, emulator_url: str) -> None:
    """The configuration directory `gcloud_setup_lines` would leave behind, written directly."""
    sections: dict[str, list[str]] = {}
    for section, name, value in _properties(emulator_url):
        sections.setdefault(section, []).append(f"{name} = {value}")
    (config_dir / "configurations").mkdir(parents=True, exist_ok=True)
    (config_dir / "active_config").write_text("default")
    (config_dir / "configurations" / "config_default").write_text(
        "".join(f"[{section}]\n" + "\n".join(lines) + "\n" for section, lines in sections.items())
    )

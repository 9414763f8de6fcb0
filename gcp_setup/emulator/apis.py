"""The emulated APIs. Each is a package with `models.py` (state, no HTTP) and `responses.py` (handlers)."""

import importlib

API_PACKAGES = (
    "resourcemanager",  # Cloud Resource Manager v1 + v3 over one state
    "billing",  # Cloud Billing v1
    "serviceusage",  # Service Usage v1
    "iam",  # IAM v1: service accounts, their keys and policies
    "apikeys",  # API Keys v2
    "orgpolicy",  # Org Policy v2: the constraint on binding API keys to service accounts
    "oauth",  # OAuth2 token endpoint, IAM Credentials, STS
    "generativelanguage",  # Gemini API v1beta, its OpenAI-compatible endpoints
    "aiplatform",  # Vertex AI generateContent and its OpenAI-compatible endpoint
    "catalog",  # what exists outside projects: Service Management services, predefined IAM roles
)


def load_all() -> None:
    """Import every API's handlers, which registers their routes and backends."""
    for package in API_PACKAGES:
        importlib.import_module(f"gcp_setup.emulator.{package}.responses")

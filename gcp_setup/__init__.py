"""gcp-setup: set up a Google Cloud project for Gemini in one idempotent command."""

__version__ = "0.1.0"

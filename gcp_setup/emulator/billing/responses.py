"""Handlers: to be written."""

from gcp_setup.emulator.billing import models  # noqa: F401  (registers the backend)

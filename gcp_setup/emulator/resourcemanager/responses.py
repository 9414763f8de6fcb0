"""Handlers: to be written."""

from gcp_setup.emulator.resourcemanager import models  # noqa: F401  (registers the backend)

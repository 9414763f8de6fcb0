"""Handlers: to be written."""

from gcp_setup.emulator.serviceusage import models  # noqa: F401  (registers the backend)

"""Checks that stop a run before it does harm: preflight, permissions, locks."""

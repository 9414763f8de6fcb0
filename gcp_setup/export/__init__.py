"""Handing what gcp-setup made over to other tools: Terraform."""

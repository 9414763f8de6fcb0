terraform {
  # 1.5: `import` blocks and strcontains(); preconditions need 1.2.
  required_version = ">= 1.5"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Checked offline against the schemas of 7.31.0 and 8.7.0 (tests/test_terraform.py).
      version = ">= 7.0, < 9.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9"
    }
  }
}

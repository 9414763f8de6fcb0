# GitHub Actions of one repository impersonate the service account through Workload Identity
# Federation: no key file, no API key. Use the outputs in the workflow:
#   - uses: google-github-actions/auth@v2
#     with:
#       workload_identity_provider: <output workload_identity_provider>
#       service_account: <output service_account_email>
provider "google" {
  project = var.project_id
}

module "gemini" {
  source = "../.."

  project_id        = var.project_id
  github_repository = var.github_repository
  create_api_key    = false
}

variable "project_id" {
  description = "The existing project."
  type        = string
}

variable "github_repository" {
  description = "OWNER/REPO allowed to impersonate the service account."
  type        = string
}

output "workload_identity_provider" {
  description = "Value for google-github-actions/auth's workload_identity_provider."
  value       = module.gemini.workload_identity_provider
}

output "service_account_email" {
  description = "Value for google-github-actions/auth's service_account."
  value       = module.gemini.service_account_email
}

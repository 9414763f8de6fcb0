# GitLab CI jobs of one project impersonate the service account through Workload Identity Federation:
# no key file, no API key. For a self-managed GitLab set gitlab_issuer, and gitlab_jwks_json (its
# /oauth/discovery/keys answer) when Google cannot reach it. In .gitlab-ci.yml (docs/ci.md):
#   id_tokens:
#     GCP_OIDC_TOKEN:
#       aud: https://iam.googleapis.com/<output gitlab_workload_identity_provider>
provider "google" {
  project = var.project_id
}

module "gemini" {
  source = "../.."

  project_id       = var.project_id
  gitlab_project   = var.gitlab_project
  gitlab_issuer    = var.gitlab_issuer
  gitlab_jwks_json = var.gitlab_jwks_json
  create_api_key   = false
}

variable "project_id" {
  description = "The existing project."
  type        = string
}

variable "gitlab_project" {
  description = "GROUP/PROJECT allowed to impersonate the service account."
  type        = string
}

variable "gitlab_issuer" {
  description = "The GitLab instance issuing the jobs' ID tokens."
  type        = string
  default     = "https://gitlab.com"
}

variable "gitlab_jwks_json" {
  description = "The instance's signing keys, inline; null to let Google fetch them."
  type        = string
  default     = null
}

output "gitlab_workload_identity_provider" {
  description = "The provider: the ID token's aud is https://iam.googleapis.com/ + it."
  value       = module.gemini.gitlab_workload_identity_provider
}

output "service_account_email" {
  description = "The account the jobs impersonate."
  value       = module.gemini.service_account_email
}

# Defaults equal gcp_setup/defaults.py; tests/test_terraform_parity.py holds the two together.

variable "project_id" {
  description = "ID of the project to set up (or to create when create_project is true)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be 6-30 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
  validation {
    # gcp_setup.settings.config.RESERVED_PROJECT_WORDS
    condition     = !anytrue([for word in ["google", "null", "undefined", "ssl"] : strcontains(var.project_id, word)])
    error_message = "project_id must not contain the reserved words google, null, undefined or ssl."
  }
}

variable "create_project" {
  description = "Create the project (under org_id or folder_id) instead of using an existing one."
  type        = bool
  default     = false
}

variable "project_name" {
  description = "Display name of a created project; defaults to project_id."
  type        = string
  default     = null
}

variable "org_id" {
  description = "Numeric organization ID to create the project under (exclusive with folder_id)."
  type        = string
  default     = null
}

variable "folder_id" {
  description = "Numeric folder ID to create the project under (exclusive with org_id)."
  type        = string
  default     = null
}

variable "billing_account" {
  description = "Billing account ID (XXXXXX-XXXXXX-XXXXXX) to link. Vertex AI needs billing; the Gemini API free tier does not."
  type        = string
  default     = null

  validation {
    condition     = var.billing_account == null || can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account))
    error_message = "billing_account must look like 012345-6789AB-CDEF01."
  }
}

variable "labels" {
  description = "Labels of a created project."
  type        = map(string)
  default     = {}
}

variable "project_deletion_policy" {
  description = "deletion_policy of a created project: PREVENT (default; `terraform destroy` fails), DELETE or ABANDON."
  type        = string
  default     = "PREVENT"

  validation {
    condition     = contains(["PREVENT", "DELETE", "ABANDON"], var.project_deletion_policy)
    error_message = "project_deletion_policy must be PREVENT, DELETE or ABANDON."
  }
}

variable "services" {
  description = "APIs to enable: the Gemini API, Vertex AI, and what provisioning and impersonation call."
  type        = set(string)
  default = [
    "generativelanguage.googleapis.com",
    "aiplatform.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "apikeys.googleapis.com",
  ]

  validation {
    condition     = length(var.services) > 0
    error_message = "services must not be empty."
  }
  validation {
    condition     = alltrue([for s in var.services : can(regex("^[a-z0-9.-]+\\.googleapis\\.com$", s))])
    error_message = "Each service is a service name such as aiplatform.googleapis.com."
  }
}

variable "disable_services_on_destroy" {
  description = "Disable the APIs on `terraform destroy`. Off by default: other workloads in the project may use them."
  type        = bool
  default     = false
}

variable "service_propagation_wait" {
  description = "How long to wait after enabling APIs before calling them (IAM, API Keys); \"0s\" to skip."
  type        = string
  default     = "60s"
}

variable "create_service_account" {
  description = "Create the service account that Vertex AI calls run as."
  type        = bool
  default     = true
}

variable "service_account_id" {
  description = "Account ID (the part before @) of the service account."
  type        = string
  default     = "gemini-client"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.service_account_id))
    error_message = "service_account_id must be 6-30 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "service_account_display_name" {
  description = "Display name of the service account."
  type        = string
  default     = "Gemini client (gcp-setup)"
}

variable "roles" {
  description = "Project roles granted to the service account (least privilege: the smallest predefined role with aiplatform.endpoints.predict, which the Agent Platform (Vertex AI) calls need; the Gemini API key needs none)."
  type        = set(string)
  default     = ["roles/aiplatform.expressUser"]

  validation {
    condition = alltrue([
      for r in var.roles : can(regex("^(roles/[A-Za-z0-9_.]+|(projects|organizations)/[a-z0-9-]+/roles/[A-Za-z0-9_.]+)$", r))
    ])
    error_message = "Each role is roles/NAME, projects/P/roles/NAME or organizations/O/roles/NAME."
  }
}

variable "impersonators" {
  description = "Members (user:me@example.com) who may impersonate the service account (roles/iam.serviceAccountTokenCreator), as `gcp-setup apply --credentials impersonate` grants."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.impersonators : can(regex("^(user|group|serviceAccount|principal|principalSet):.+", m))])
    error_message = "Each impersonator is a member such as user:me@example.com or group:team@example.com."
  }
}

variable "create_api_key" {
  description = "Create an API key for the Gemini API."
  type        = bool
  default     = true
}

variable "api_key_type" {
  description = "auth: the key is bound to the service account (the Gemini API rejects standard keys since September 2026); standard: an unbound key (only for APIs that still take one)."
  type        = string
  default     = "auth"

  validation {
    condition     = contains(["auth", "standard"], var.api_key_type)
    error_message = "api_key_type must be auth or standard."
  }
}

variable "api_key_generation" {
  description = "The N of the key ID gemini-key-N. Increase it to rotate the key: a deleted key keeps its ID for 30 days, so a replacement needs a new one (Terraform creates the new key before it deletes the old)."
  type        = number
  default     = 1

  validation {
    condition     = var.api_key_generation >= 1 && floor(var.api_key_generation) == var.api_key_generation
    error_message = "api_key_generation must be a whole number from 1."
  }
}

variable "api_key_display_name" {
  description = "Display name of the API key."
  type        = string
  default     = "Gemini API key (gcp-setup)"
}

variable "api_key_targets" {
  description = "Services the API key may call (restrictions.api_targets)."
  type        = list(string)
  default     = ["generativelanguage.googleapis.com"]

  validation {
    condition     = length(var.api_key_targets) > 0
    error_message = "An unrestricted API key is not created: give at least one target service."
  }
}

variable "create_vertex_express_key" {
  description = "Also create an auth key for Vertex AI express mode (restricted to aiplatform.googleapis.com), and grant the service account roles/aiplatform.expressUser. The organization policy iam.managed.disableServiceAccountApiKeyCreation, enforced by default in organizations, forbids it."
  type        = bool
  default     = false
}

variable "location" {
  description = "Vertex AI location written to GOOGLE_CLOUD_LOCATION."
  type        = string
  default     = "global"
}

variable "github_repository" {
  description = "OWNER/REPO whose GitHub Actions may impersonate the service account through Workload Identity Federation; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.github_repository == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "workload_identity_pool_id" {
  description = "ID of the Workload Identity pool for GitHub Actions."
  type        = string
  default     = "github"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}[a-z0-9]$", var.workload_identity_pool_id)) && !startswith(var.workload_identity_pool_id, "gcp-")
    error_message = "workload_identity_pool_id must be 4-32 lowercase letters, digits or hyphens, and not start with gcp-."
  }
}

variable "workload_identity_provider_id" {
  description = "ID of the OIDC provider in the pool."
  type        = string
  default     = "github-actions"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}[a-z0-9]$", var.workload_identity_provider_id)) && !startswith(var.workload_identity_provider_id, "gcp-")
    error_message = "workload_identity_provider_id must be 4-32 lowercase letters, digits or hyphens, and not start with gcp-."
  }
}

variable "gitlab_project" {
  description = "GROUP/PROJECT path whose GitLab CI jobs may impersonate the service account through Workload Identity Federation; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.gitlab_project == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$", var.gitlab_project))
    error_message = "gitlab_project must be GROUP/PROJECT (subgroups allowed)."
  }
}

variable "gitlab_issuer" {
  description = "The GitLab instance that issues the CI jobs' ID tokens."
  type        = string
  default     = "https://gitlab.com"

  validation {
    condition     = startswith(var.gitlab_issuer, "https://")
    error_message = "gitlab_issuer must be an https URL."
  }
}

variable "gitlab_jwks_json" {
  description = "The GitLab instance's signing keys (its /oauth/discovery/keys JSON), for one Google cannot reach; null to let Google fetch them."
  type        = string
  default     = null
}

variable "gitlab_workload_identity_pool_id" {
  description = "ID of the Workload Identity pool for GitLab CI."
  type        = string
  default     = "gitlab"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}[a-z0-9]$", var.gitlab_workload_identity_pool_id)) && !startswith(var.gitlab_workload_identity_pool_id, "gcp-")
    error_message = "gitlab_workload_identity_pool_id must be 4-32 lowercase letters, digits or hyphens, and not start with gcp-."
  }
}

variable "gitlab_workload_identity_provider_id" {
  description = "ID of the OIDC provider in the GitLab pool."
  type        = string
  default     = "gitlab-ci"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}[a-z0-9]$", var.gitlab_workload_identity_provider_id)) && !startswith(var.gitlab_workload_identity_provider_id, "gcp-")
    error_message = "gitlab_workload_identity_provider_id must be 4-32 lowercase letters, digits or hyphens, and not start with gcp-."
  }
}

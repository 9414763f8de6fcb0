locals {
  project_id     = var.create_project ? google_project.this[0].project_id : var.project_id
  project_number = var.create_project ? google_project.this[0].number : data.google_project.existing[0].number
  # An existing project's billing is managed here only when a billing account is given; a created
  # project carries it in google_project.billing_account.
  manage_billing = !var.create_project && var.billing_account != null
  use_wif        = var.github_repository != null
  use_gitlab_wif = var.gitlab_project != null
  sa_email       = var.create_service_account ? google_service_account.this[0].email : null
  # As gcp-setup: the express role joins the others when the express key is wanted.
  roles = var.create_vertex_express_key ? setunion(var.roles, ["roles/aiplatform.expressUser"]) : var.roles
  # As gcp-setup's .env: google-genai uses the API key when there is one, else Vertex AI (if enabled).
  use_vertexai = !var.create_api_key && contains(var.services, "aiplatform.googleapis.com")
}

resource "google_project" "this" {
  count = var.create_project ? 1 : 0

  project_id      = var.project_id
  name            = coalesce(var.project_name, var.project_id)
  org_id          = var.org_id
  folder_id       = var.folder_id
  billing_account = var.billing_account
  labels          = var.labels
  deletion_policy = var.project_deletion_policy

  lifecycle {
    # No parent at all is allowed (a project of an account without an organization).
    precondition {
      condition     = var.org_id == null || var.folder_id == null
      error_message = "Give org_id or folder_id as the parent of the new project, not both."
    }
  }
}

data "google_project" "existing" {
  count = var.create_project ? 0 : 1

  project_id = var.project_id
}

resource "google_billing_project_info" "this" {
  count = local.manage_billing ? 1 : 0

  project         = local.project_id
  billing_account = var.billing_account
}

resource "google_project_service" "services" {
  # Workload Identity Federation also needs the Security Token Service (as `gcp-setup --github-repo`
  # and `--gitlab-project`).
  for_each = local.use_wif || local.use_gitlab_wif ? setunion(var.services, ["sts.googleapis.com"]) : var.services

  project            = local.project_id
  service            = each.value
  disable_on_destroy = var.disable_services_on_destroy
  # Never switch off APIs that other services in the project depend on.
  disable_dependent_services = false

  # Google refuses to enable APIs that need billing (aiplatform.googleapis.com) on a project without it:
  # on an existing project the billing link comes first.
  depends_on = [google_billing_project_info.this]
}

# Why a wait: google_project_service returns as soon as Service Usage reports an API enabled, but the
# API's own front ends keep answering 403 SERVICE_DISABLED for a while (up to minutes), which the
# provider does not retry (see the provider guide "google_project_service", section "Using the time
# provider"). The service account (IAM API), the API key (API Keys API) and the Workload Identity pool
# (IAM API) are created right after their APIs are enabled, so they wait here. The IAM bindings need
# no extra wait: google_service_account polls until the new account is readable before it returns.
# The triggers make the wait run again only when the set of services changes.
resource "time_sleep" "services_propagation" {
  create_duration = var.service_propagation_wait

  triggers = {
    project  = local.project_id
    services = join(",", sort([for s in google_project_service.services : s.service]))
  }
}

resource "google_service_account" "this" {
  count = var.create_service_account ? 1 : 0

  project      = local.project_id
  account_id   = var.service_account_id
  display_name = var.service_account_display_name
  # Not gcp-setup's "Managed by gcp-setup" marker: after an import, this in-place update tells
  # `gcp-setup destroy` that the account is no longer its own to delete.
  description = "Managed by Terraform (gcp-setup's module)."

  depends_on = [time_sleep.services_propagation]
}

resource "google_project_iam_member" "roles" {
  for_each = var.create_service_account ? local.roles : toset([])

  project = local.project_id
  role    = each.value
  member  = "serviceAccount:${local.sa_email}"
}

resource "google_service_account_iam_member" "token_creators" {
  for_each = var.create_service_account ? var.impersonators : toset([])

  service_account_id = google_service_account.this[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = each.value
}

resource "google_apikeys_key" "this" {
  count = var.create_api_key ? 1 : 0

  project      = local.project_id
  name         = "gemini-key-${var.api_key_generation}"
  display_name = var.api_key_display_name
  # An auth key: requests made with it act as the account. Only a key's creation can bind it.
  service_account_email = var.api_key_type == "auth" ? local.sa_email : null

  restrictions {
    dynamic "api_targets" {
      for_each = var.api_key_targets
      content {
        service = api_targets.value
      }
    }
  }

  depends_on = [time_sleep.services_propagation]

  lifecycle {
    # The new key exists (under a new api_key_generation) before the old one goes.
    create_before_destroy = true
    precondition {
      condition     = var.api_key_type == "standard" || var.create_service_account
      error_message = "An auth key is bound to the service account: set create_service_account = true, or api_key_type = \"standard\"."
    }
  }
}

resource "google_apikeys_key" "vertex_express" {
  count = var.create_vertex_express_key ? 1 : 0

  project               = local.project_id
  name                  = "vertex-express-key-${var.api_key_generation}"
  display_name          = "Vertex AI express mode key (gcp-setup)"
  service_account_email = local.sa_email

  restrictions {
    api_targets {
      service = "aiplatform.googleapis.com"
    }
  }

  depends_on = [time_sleep.services_propagation]

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.create_service_account
      error_message = "The Vertex AI express key is bound to the service account: set create_service_account = true."
    }
  }
}

resource "google_iam_workload_identity_pool" "github" {
  count = local.use_wif ? 1 : 0

  project                   = local.project_id
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "GitHub Actions"
  description               = "GitHub Actions of ${var.github_repository} (gcp-setup module)"

  depends_on = [time_sleep.services_propagation]

  lifecycle {
    precondition {
      condition     = var.create_service_account
      error_message = "github_repository needs create_service_account = true: GitHub Actions impersonate that account."
    }
  }
}

resource "google_iam_workload_identity_pool_provider" "github" {
  count = local.use_wif ? 1 : 0

  project                            = local.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github[0].workload_identity_pool_id
  workload_identity_pool_provider_id = var.workload_identity_provider_id
  display_name                       = "GitHub Actions OIDC"
  attribute_mapping = {
    "google.subject"             = "assertion.sub"
    "attribute.repository"       = "assertion.repository"
    "attribute.repository_owner" = "assertion.repository_owner"
    "attribute.ref"              = "assertion.ref"
  }
  # Google requires a condition for GitHub's shared issuer; without it any repository could log in.
  attribute_condition = "assertion.repository == \"${var.github_repository}\""

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "github_wif" {
  count = local.use_wif && var.create_service_account ? 1 : 0

  service_account_id = google_service_account.this[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github[0].name}/attribute.repository/${var.github_repository}"
}

resource "google_iam_workload_identity_pool" "gitlab" {
  count = local.use_gitlab_wif ? 1 : 0

  project                   = local.project_id
  workload_identity_pool_id = var.gitlab_workload_identity_pool_id
  display_name              = "GitLab CI"
  description               = "GitLab CI of ${var.gitlab_project} (gcp-setup module)"

  depends_on = [time_sleep.services_propagation]

  lifecycle {
    precondition {
      condition     = var.create_service_account
      error_message = "gitlab_project needs create_service_account = true: GitLab CI jobs impersonate that account."
    }
  }
}

resource "google_iam_workload_identity_pool_provider" "gitlab" {
  count = local.use_gitlab_wif ? 1 : 0

  project                            = local.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.gitlab[0].workload_identity_pool_id
  workload_identity_pool_provider_id = var.gitlab_workload_identity_provider_id
  display_name                       = "GitLab CI OIDC"
  attribute_mapping = {
    "google.subject"           = "assertion.sub"
    "attribute.project_path"   = "assertion.project_path"
    "attribute.namespace_path" = "assertion.namespace_path"
    "attribute.ref"            = "assertion.ref"
    "attribute.ref_type"       = "assertion.ref_type"
  }
  # gitlab.com's issuer is shared by every project: only this project's jobs may log in.
  attribute_condition = "assertion.project_path == \"${var.gitlab_project}\""

  oidc {
    issuer_uri = var.gitlab_issuer
    # A self-managed GitLab Google cannot reach: its signing keys inline.
    jwks_json = var.gitlab_jwks_json
  }
}

resource "google_service_account_iam_member" "gitlab_wif" {
  count = local.use_gitlab_wif && var.create_service_account ? 1 : 0

  service_account_id = google_service_account.this[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.gitlab[0].name}/attribute.project_path/${var.gitlab_project}"
}

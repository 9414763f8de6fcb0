output "project_id" {
  description = "ID of the project."
  value       = local.project_id
}

output "project_number" {
  description = "Number of the project."
  value       = local.project_number
}

output "service_account_email" {
  description = "Email of the service account (null when create_service_account is false)."
  value       = local.sa_email
  # The roles must be granted before a caller uses the account.
  depends_on = [google_project_iam_member.roles]
}

output "api_key_name" {
  description = "Resource name of the API key (projects/PROJECT/locations/global/keys/ID), null when none."
  value       = var.create_api_key ? google_apikeys_key.this[0].id : null
}

output "api_key_string" {
  description = "The API key string (GEMINI_API_KEY). Sensitive: read it with `terraform output -raw api_key_string`."
  value       = var.create_api_key ? google_apikeys_key.this[0].key_string : null
  sensitive   = true
}

output "vertex_express_api_key_string" {
  description = "The Vertex AI express mode key string (VERTEX_EXPRESS_API_KEY), null when none. Sensitive."
  value       = var.create_vertex_express_key ? google_apikeys_key.vertex_express[0].key_string : null
  sensitive   = true
}

output "workload_identity_provider" {
  description = "Full name of the Workload Identity provider, for google-github-actions/auth's workload_identity_provider."
  value       = local.use_wif ? google_iam_workload_identity_pool_provider.github[0].name : null
}

output "gitlab_workload_identity_provider" {
  description = "Full name of the GitLab Workload Identity provider: the ID token's aud is https://iam.googleapis.com/ + it."
  value       = local.use_gitlab_wif ? google_iam_workload_identity_pool_provider.gitlab[0].name : null
}

output "env" {
  description = "The environment variables gcp-setup writes to .env (without the secret GEMINI_API_KEY)."
  value = {
    GOOGLE_CLOUD_PROJECT      = local.project_id
    GOOGLE_CLOUD_LOCATION     = var.location
    GOOGLE_GENAI_USE_VERTEXAI = tostring(local.use_vertexai)
    OPENAI_BASE_URL           = "https://generativelanguage.googleapis.com/v1beta/openai/"
  }
}

# An existing project: enable the APIs, create the service account with its roles and a restricted
# API key, exactly what `gcp-setup apply --project PROJECT` does.
provider "google" {
  project = var.project_id
  # API Keys bills the caller's project, not the key's: with your own ADC (gcloud auth
  # application-default login) it answers SERVICE_DISABLED in gcloud's project 764086051850 unless the
  # provider names one. Every resource here then bills its own project, which exists.
  user_project_override = true
  billing_project       = var.project_id
}

module "gemini" {
  source = "../.."

  project_id = var.project_id
}

variable "project_id" {
  description = "The existing project."
  type        = string
}

output "env" {
  description = "Environment for google-genai and openai."
  value       = module.gemini.env
}

output "api_key_string" {
  description = "GEMINI_API_KEY."
  value       = module.gemini.api_key_string
  sensitive   = true
}

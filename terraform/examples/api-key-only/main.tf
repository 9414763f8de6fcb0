# Only the Gemini API with an API key (free tier, no billing, no service account):
# `gcp-setup apply --no-service-account`.
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

  project_id             = var.project_id
  create_service_account = false
  services = [
    "generativelanguage.googleapis.com",
    "apikeys.googleapis.com",
  ]
}

variable "project_id" {
  description = "The existing project."
  type        = string
}

output "api_key_name" {
  description = "Resource name of the key."
  value       = module.gemini.api_key_name
}

output "api_key_string" {
  description = "GEMINI_API_KEY."
  value       = module.gemini.api_key_string
  sensitive   = true
}

# Only the Gemini API with an API key (free tier, no billing, no service account):
# `gcp-setup apply --no-service-account`.
provider "google" {
  project = var.project_id
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

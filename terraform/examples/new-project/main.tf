# A new project under a folder, linked to a billing account (Vertex AI needs billing), with labels:
# `gcp-setup apply --create --folder FOLDER --billing-account ACCOUNT`.
# No user_project_override here: with it every resource would bill the project it is about, and the
# project does not exist before its creation. With your own ADC, pass `billing_project` = an existing
# project of yours where API Keys is on, with user_project_override = true (terraform/README.md).
provider "google" {}

module "gemini" {
  source = "../.."

  create_project          = true
  project_id              = var.project_id
  project_name            = "Gemini sandbox"
  folder_id               = var.folder_id
  billing_account         = var.billing_account
  labels                  = { purpose = "gemini", managed-by = "terraform" }
  project_deletion_policy = "DELETE"
}

variable "project_id" {
  description = "ID of the project to create."
  type        = string
}

variable "folder_id" {
  description = "Numeric ID of the parent folder."
  type        = string
}

variable "billing_account" {
  description = "Billing account ID, XXXXXX-XXXXXX-XXXXXX."
  type        = string
}

output "project_number" {
  description = "Number of the new project."
  value       = module.gemini.project_number
}

output "service_account_email" {
  description = "The service account Vertex AI calls run as."
  value       = module.gemini.service_account_email
}

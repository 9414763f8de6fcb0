"""The items under "Why" in issue 15 (and issue 23's, numbered 8), each of which must be a passing scenario
of `make fidelity`, and the kinds of client the scenarios drive."""

from __future__ import annotations

CLIENTS = {
    "gcloud": "the real gcloud CLI",
    "cloud-client": "google-cloud-* clients (REST transport)",
    "discovery": "google-api-python-client discovery clients",
    "genai": "google-genai",
    "openai": "openai",
    "http": "plain HTTP (requests)",
    "curl": "curl",
}

WHY = {
    "0.control-plane": "the control plane holds up: stale etags, taken project IDs, soft delete, billing",
    "1.json-mode": "JSON mode returns JSON that parses and fits the schema (genai, openai)",
    "1.function-calling": "function calling returns a call (genai tools, openai tool_choice=required)",
    "1.candidates": "candidate_count=2 / n=2 return two choices",
    "1.response-id": "the same prompt gives a new responseId each time",
    "2.embeddings": "embed_content and openai embeddings work where models.list advertises them",
    "2.vertex-models": "Vertex publisher models list and get, computeTokens, OpenAI models and embeddings",
    "2.not-emulated": "files, cachedContents, batches answer Google's 501, never an HTML 404 or a 405",
    "3.unknown-role": "setIamPolicy refuses an unknown role (roles/notarole)",
    "3.custom-role": "setIamPolicy refuses a custom role that does not exist",
    "3.user-owner": "setIamPolicy refuses roles/owner for a user",
    "3.all-users": "setIamPolicy refuses allUsers on a project",
    "3.last-owner": "setIamPolicy refuses removing every owner",
    "3.numeric-role": "a bindings entry with a numeric role is a 400 and leaves the policy untouched",
    "3.condition-version": "a conditional binding without version 3 is refused",
    "3.condition-syntax": "a condition without a title, or not CEL, is refused",
    "3.withcond": "getIamPolicy without a requested version answers version 1 with _withcond_ roles",
    "4.referrer": "a key limited to referrers refuses others (API_KEY_HTTP_REFERRER_BLOCKED)",
    "4.ip": "a key limited to IPs refuses others (API_KEY_IP_ADDRESS_BLOCKED)",
    "4.android": "a key limited to Android apps refuses others (API_KEY_ANDROID_APP_BLOCKED)",
    "4.ios": "a key limited to iOS apps refuses others (API_KEY_IOS_APP_BLOCKED)",
    "5.service-disabled": "IAM service accounts and keys need iam.googleapis.com on (SERVICE_DISABLED)",
    "5.aiplatform-user": "roles/aiplatform.user lists and describes the project",
    "5.roles": "iam roles describe/list and queryGrantableRoles answer with real permission lists",
    "5.billing-iam": "billing account getIamPolicy and testIamPermissions work",
    "5.x509": "keys.get with publicKeyType=TYPE_X509_PEM_FILE returns publicKeyData",
    "5.key-etag": "keys.patch with a stale etag fails",
    "6.api-keys": "API keys per project stop at 300",
    "6.service-accounts": "service accounts per project stop at 100",
    "6.billing-projects": "projects per billing account stop at the account's quota",
    "6.rates": "rate quotas of project creation, Service Usage and IAM writes answer 429",
    "7.catalogue": "the catalogue is today's (gemini-3.8-flash), dated",
    "7.retired": "retired models answer as Google answers for them",
    "7.locations": "Vertex AI refuses a location it does not serve (mars-central1)",
    "8.interactions": "the Interactions API creates, stores, chains, gets, deletes, cancels, streams, "
    "runs in the background",
    "8.interactions-errors": "Interactions API errors: an unknown interaction, a wrong or unbound key, a "
    "retired or unsupported model, the free tier's limit 0, Agent Platform",
}

"""What gcp-setup sets up when nothing says otherwise. The Terraform module's defaults equal these
(tests/test_terraform_parity.py holds the two together)."""

GENERATIVE_LANGUAGE_API = "generativelanguage.googleapis.com"
VERTEX_AI_API = "aiplatform.googleapis.com"

# The APIs the product needs, plus what provisioning itself calls (Resource Manager, Service Usage,
# IAM, API Keys) and what impersonation needs (IAM Credentials).
SERVICES: tuple[str, ...] = (
    GENERATIVE_LANGUAGE_API,
    VERTEX_AI_API,
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "apikeys.googleapis.com",
)

SERVICE_ACCOUNT_ID = "gemini-client"
SERVICE_ACCOUNT_DISPLAY_NAME = "Gemini client (gcp-setup)"
ROLES: tuple[str, ...] = ("roles/aiplatform.user",)

API_KEY_ID = "gemini-api-key"
API_KEY_DISPLAY_NAME = "Gemini API key (gcp-setup)"
API_KEY_TARGETS: tuple[str, ...] = (GENERATIVE_LANGUAGE_API,)

LOCATION = "global"
GEMINI_OPENAI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"

"""Environment variable names gcp-setup reads or writes, in one place (as google.auth.environment_vars does).

Every setting of gcp_setup/settings/table.py is also read from GCP_SETUP_<SETTING> (after the variables named
here for it). An explicit flag wins over the environment, which wins over gcp-setup.toml, which wins
over the active gcloud configuration.
"""

EMULATOR_HOST = "GCP_SETUP_EMULATOR_HOST"
"""host:port of a gcp-setup emulator; when set, every Google API call goes there, anonymously."""

PROJECT = "GOOGLE_CLOUD_PROJECT"
CLOUDSDK_PROJECT = "CLOUDSDK_CORE_PROJECT"
"""gcloud's own override of core/project; read after GOOGLE_CLOUD_PROJECT."""

LOCATION = "GOOGLE_CLOUD_LOCATION"
USE_VERTEXAI = "GOOGLE_GENAI_USE_VERTEXAI"
USE_ENTERPRISE = "GOOGLE_GENAI_USE_ENTERPRISE"
"""google-genai's name for USE_VERTEXAI since Agent Platform (2026): read first, it wins when both are set;
the .env writes both, with one value."""
CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"
QUOTA_PROJECT = "GOOGLE_CLOUD_QUOTA_PROJECT"
"""google-auth's (and gcloud's) quota project; gcp-setup reads it as --billing-project."""
CLOUDSDK_QUOTA_PROJECT = "CLOUDSDK_BILLING_QUOTA_PROJECT"
GEMINI_API_KEY = "GEMINI_API_KEY"
GOOGLE_API_KEY = "GOOGLE_API_KEY"
"""google-genai prefers GOOGLE_API_KEY over GEMINI_API_KEY when both are set."""
VERTEX_EXPRESS_API_KEY = "VERTEX_EXPRESS_API_KEY"
"""The Vertex AI express mode key. A name of its own: google-genai reads GOOGLE_API_KEY, then
GEMINI_API_KEY, for both backends, so the express key is passed explicitly (Client(vertexai=True,
api_key=os.environ[...])) and never shadows the Gemini API key."""

OPENAI_BASE_URL = "OPENAI_BASE_URL"
HTTPS_PROXY = "HTTPS_PROXY"
NO_PROXY = "NO_PROXY"
SSL_CERT_FILE = "SSL_CERT_FILE"
"""The CA file httpx (openai, google-genai) and OpenSSL read."""
REQUESTS_CA_BUNDLE = "REQUESTS_CA_BUNDLE"
"""The CA file requests (google-auth's token refresh) reads."""
OPENAI_API_KEY = "OPENAI_API_KEY"
GITHUB_ACTIONS = "GITHUB_ACTIONS"
"""`true` inside a GitHub Actions job (the runner sets it, with the files below)."""
GITHUB_ENV = "GITHUB_ENV"
GITHUB_OUTPUT = "GITHUB_OUTPUT"
GITHUB_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
CLOUDSDK_CONFIG = "CLOUDSDK_CONFIG"
CI = "CI"

"""Who may call Gemini on Vertex AI, checked as Google does.

On the project path (`projects/P/locations/L/publishers/google/models/M`) the caller needs an OAuth2
token (an API key answers 401 CREDENTIALS_MISSING), the Vertex AI API enabled in P, billing on P, and
a role granting aiplatform.endpoints.predict. Express mode (`publishers/google/models/M`, no project)
takes an API key bound to a service account that holds such a role (roles/aiplatform.expressUser), whose
restrictions, if any, allow aiplatform.googleapis.com; until the auth-only era also an old standard
express key, one restricted to aiplatform.googleapis.com.
"""

from __future__ import annotations

from gcp_setup.emulator import guesses
from gcp_setup.emulator.billing.models import BillingBackend
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.authorization import holds_permission, project_caller_may_act_on
from gcp_setup.emulator.core.gemini import catalogue
from gcp_setup.emulator.core.gemini.catalogue import model_id
from gcp_setup.emulator.core.key_callers import KeyCaller, act_as_bound_account, key_caller, require_allowed
from gcp_setup.emulator.core.realism import AUTH_ONLY
from gcp_setup.emulator.core.routes import ApiRequest
from gcp_setup.emulator.generativelanguage.models import GenerativeModels
from gcp_setup.emulator.resourcemanager.models import Project, ProjectsBackend
from gcp_setup.emulator.serviceusage.models import ServicesBackend

SERVICE = "aiplatform.googleapis.com"
PREDICT_PERMISSION = "aiplatform.endpoints.predict"


def rpc_method(api_version: str, verb: str) -> str:
    """e.g. google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent"""
    return f"google.cloud.aiplatform.{api_version}.PredictionService.{verb[0].upper()}{verb[1:]}"


def api_keys_not_supported(method: str) -> errors.Unauthenticated:
    return errors.Unauthenticated(
        "API keys are not supported by this API. Expected OAuth2 access token or other authentication "
        "credentials that assert a principal. See https://cloud.google.com/docs/authentication",
        reason="CREDENTIALS_MISSING",
        metadata={"method": method, "service": SERVICE},
    )


def billing_disabled(project: Project) -> errors.PermissionDenied:
    url = f"https://console.developers.google.com/billing/enable?project={project.number}"
    return errors.PermissionDenied(
        f"This API method requires billing to be enabled. Please enable billing on project "
        f"#{project.number} by visiting {url} then retry. If you enabled billing for this project "
        "recently, wait a few minutes for the action to propagate to our systems and retry.",
        reason="BILLING_DISABLED",
        metadata={"consumer": f"projects/{project.number}", "service": SERVICE},
        extra_details=[
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Google developer console API billing", "url": url}],
            }
        ],
    )


def predict_denied(resource: str) -> errors.PermissionDenied:
    return errors.iam_permission_denied(SERVICE, PREDICT_PERMISSION, resource)


def resource_exhausted() -> errors.ResourceExhausted:
    """Vertex AI's answer when shared capacity in a region runs out (no ErrorInfo, as Google sends it)."""
    return errors.ResourceExhausted(
        "Resource exhausted. Please try again later. Please refer to "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
    )


def publisher_model_not_found(resource: str) -> errors.NotFound:
    return errors.NotFound(
        f"Publisher Model `{resource}` was not found or your project does not have access to it. Please "
        "ensure you are using a valid model version. For more information, see: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
    )


def authorize_project_call(req: ApiRequest, project_ref: str, resource: str, method: str) -> Project:
    """The checks of a call on the project path, in Google's order; the project on success."""
    if req.api_key and not req.authenticated:
        raise api_keys_not_supported(method)
    project = project_caller_may_act_on(
        req,
        project_ref,
        allowed=lambda _: True,  # the role is checked after the service and billing, as Google does
        denied=lambda: predict_denied(resource),
        when_deleted="deny",
        service=SERVICE,
    )
    if not req.world.backend(BillingBackend).billing_enabled(project):
        raise billing_disabled(project)
    if not holds_permission(req, PREDICT_PERMISSION)(project):
        raise predict_denied(resource)
    return project


def authorize_express_call(req: ApiRequest, method: str, model: str) -> Project:
    """Express mode: an auth key (or, before the auth-only era, a standard express key), billed to the key's
    project."""
    if not req.api_key:
        raise errors.Unauthenticated(
            "Request is missing required authentication credential. Expected OAuth 2 access token, login "
            "cookie or other valid authentication credential.",
            reason="CREDENTIALS_MISSING",
            metadata={"method": method, "service": SERVICE},
        )
    caller = key_caller(req, SERVICE)
    if caller.key.bound:
        _authorize_bound_key(req, caller, method, model)
    elif SERVICE not in caller.key.targets or _standard_express_keys_retired(req):
        raise api_keys_not_supported(method)
    else:
        require_allowed(req, caller, SERVICE, method)
    req.world.backend(ServicesBackend).require_enabled(caller.project, SERVICE)
    return caller.project


def _standard_express_keys_retired(req: ApiRequest) -> bool:
    auth_only = req.world.realism.gemini_key_policy == AUTH_ONLY
    return auth_only and guesses.EXPRESS_TAKES_STANDARD_KEYS_UNTIL_AUTH_ONLY


def _authorize_bound_key(req: ApiRequest, caller: KeyCaller, method: str, model: str) -> None:
    """A key restricted to other APIs is blocked (NousResearch/hermes-agent#115306: an AI Studio key on Vertex
    AI); otherwise the call acts as the bound account, which needs a Vertex AI role in the key's project."""
    require_allowed(req, caller, SERVICE, method)
    account = act_as_bound_account(req, caller.key, SERVICE, method)
    if not req.world.backend(ProjectsBackend).holds(caller.project, account.member, PREDICT_PERMISSION):
        raise predict_denied(guesses.express_predict_resource(caller.project.number, model_id(model)))


def check_capacity(req: ApiRequest, location: str) -> None:
    if location in req.world.backend(GenerativeModels).switches.exhausted_locations:
        raise resource_exhausted()


def publisher_model(publisher: str, model: str, resource: str, verb: str) -> str:
    """The model a Vertex call names, if Vertex serves `verb` for it (catalogue.vertex_methods)."""
    if publisher != "google" or verb not in catalogue.vertex_methods(model_id(model)):
        if publisher == "google" and catalogue.retirement(model_id(model)) == catalogue.CLOSED_TO_NEW_USERS:
            raise guesses.vertex_model_closed_to_new_users(resource)
        raise publisher_model_not_found(resource)
    return model_id(model)


def check_location(location: str, resource: str) -> None:
    if location not in catalogue.vertex_locations():
        raise guesses.unknown_vertex_location(resource)


def authorize_reader(req: ApiRequest, method: str, model: str) -> None:
    """Reading a publisher model takes an OAuth2 token, or an API key as in express mode."""
    if not req.authenticated:
        authorize_express_call(req, method, model)

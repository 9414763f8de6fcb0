"""Who may call the Gemini API, checked as Google does for an API key, in Google's order: the key must
exist and be of a type the era takes (keypolicy), its API restrictions must allow the service, a bound
key's account must be usable (the call then acts as it), and the service must be enabled in the project
that owns the key."""

from __future__ import annotations

from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.key_callers import act_as_bound_account, key_caller, require_allowed
from gcp_setup.emulator.core.routes import ApiRequest
from gcp_setup.emulator.generativelanguage.keypolicy import check_key_policy
from gcp_setup.emulator.generativelanguage.models import GenerativeModels, free_tier_limit_0
from gcp_setup.emulator.generativelanguage.paid_tiers import FREE, GeminiBilling
from gcp_setup.emulator.resourcemanager.models import Project
from gcp_setup.emulator.serviceusage.models import ServicesBackend

SERVICE = "generativelanguage.googleapis.com"


def unregistered_caller() -> errors.PermissionDenied:
    """A call with neither an API key nor a token."""
    return errors.PermissionDenied(
        "Method doesn't allow unregistered callers (callers without established identity). Please use API "
        "Key or other form of API consumer identity to call this API."
    )


def authorize_key(req: ApiRequest, rpc_method: str) -> Project:
    """The project the request's API key bills to."""
    if not req.api_key:
        raise unregistered_caller()
    caller = key_caller(req, SERVICE)
    check_key_policy(req.world.realism.gemini_key_policy, caller.key, SERVICE, rpc_method)
    require_allowed(req, caller, SERVICE, rpc_method)
    if caller.key.bound:
        act_as_bound_account(req, caller.key, SERVICE, rpc_method)
    req.world.backend(ServicesBackend).require_enabled(caller.project, SERVICE)
    return caller.project


def require_generation_quota(req: ApiRequest, model: str) -> None:
    """On the free tier, a model without one answers "limit: 0"; on a paid tier every generation draws on
    the prepaid credits and the spend-based rate limit (generativelanguage/paid_tiers.py)."""
    project = key_caller(req, SERVICE).project
    gemini_billing = req.world.backend(GeminiBilling)
    if gemini_billing.tier(project) != FREE:
        gemini_billing.charge(project)
    elif model in req.world.backend(GenerativeModels).switches.no_free_tier_models:
        raise free_tier_limit_0(model)

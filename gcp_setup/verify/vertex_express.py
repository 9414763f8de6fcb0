"""Check: Vertex AI express mode, through google-genai with `vertexai=True` and an auth key bound to a
service account that holds roles/aiplatform.expressUser (what `apply --vertex-express` makes).

The key is passed explicitly: google-genai reads GOOGLE_API_KEY, then GEMINI_API_KEY, for both
backends, so the express key lives in a variable of its own (VERTEX_EXPRESS_API_KEY).
"""

from __future__ import annotations

from gcp_setup import envvars
from gcp_setup.verify.core import Skip, VerifyContext
from gcp_setup.verify.gemini_api import chosen_model, count_and_generate, http_options
from gcp_setup.verify.keys import key_info


def check(ctx: VerifyContext) -> tuple[str, str]:
    from google import genai

    if not ctx.express_key:
        raise Skip(
            f"no Vertex AI express key in ${envvars.VERTEX_EXPRESS_API_KEY} (`gcp-setup apply --project "
            f"{ctx.project or 'PROJECT'} --create --vertex-express` makes one)"
        )
    client = genai.Client(vertexai=True, api_key=ctx.express_key.reveal(), http_options=http_options(ctx))
    kind = key_info(ctx, ctx.express_key).describe()
    return f"express mode with {kind}; {count_and_generate(ctx, client, chosen_model(ctx))}", ""

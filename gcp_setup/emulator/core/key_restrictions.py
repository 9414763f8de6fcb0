"""An API key's application restrictions (API Keys v2 `Restrictions`), enforced on every data-plane call as
Google enforces them: 403 PERMISSION_DENIED with the ErrorInfo reason of google/api/error_reason.proto and a
LocalizedMessage, each message as seen in real answers (research notes: firebase, identitytoolkit and
generativelanguage answers of 2026).

- browserKeyRestrictions.allowedReferrers: the `Referer` header; `*` matches any characters, a pattern
  without a scheme matches http and https, and one without a path matches the site's root only.
- serverKeyRestrictions.allowedIps: the address the request came from, an IP or a CIDR range. The emulator
  sees the connecting address (127.0.0.1 for a local client) and ignores X-Forwarded-For: Google's front end
  takes the address the connection came from, which a client cannot choose by sending a header.
- androidKeyRestrictions.allowedApplications: `X-Android-Package` and `X-Android-Cert` (the signing
  certificate's SHA-1, compared without colons or case), as Google's Android SDKs send them.
- iosKeyRestrictions.allowedBundleIds: `X-Ios-Bundle-Identifier`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors

EMPTY = "<empty>"


def check_application(
    restrictions: dict[str, Any], headers: Any, remote_addr: str, service: str, project_number: str
) -> None:
    """Raise Google's 403 unless the request comes from an application the key's restrictions allow."""
    browser = restrictions.get("browserKeyRestrictions")
    if browser is not None:
        referrer = headers.get("Referer") or ""
        if not any(_referrer_matches(p, referrer) for p in browser.get("allowedReferrers") or []):
            shown = referrer or EMPTY
            raise errors.key_blocked(
                "API_KEY_HTTP_REFERRER_BLOCKED",
                f"Requests from referer {shown} are blocked.",
                service,
                project_number,
                httpReferrer=shown,
            )
    server = restrictions.get("serverKeyRestrictions")
    if server is not None and not any(_ip_matches(a, remote_addr) for a in server.get("allowedIps") or []):
        raise guesses.api_key_ip_blocked(remote_addr, service, project_number)
    android = restrictions.get("androidKeyRestrictions")
    if android is not None:
        package = headers.get("X-Android-Package") or ""
        cert = _fingerprint(headers.get("X-Android-Cert") or "")
        allowed = android.get("allowedApplications") or []
        if not any(
            a.get("packageName") == package and _fingerprint(a.get("sha1Fingerprint") or "") == cert
            for a in allowed
        ):
            shown = package or EMPTY
            raise errors.key_blocked(
                "API_KEY_ANDROID_APP_BLOCKED",
                f"Requests from this Android client application {shown} are blocked.",
                service,
                project_number,
                androidPackage=shown,
            )
    ios = restrictions.get("iosKeyRestrictions")
    if ios is not None:
        bundle = headers.get("X-Ios-Bundle-Identifier") or ""
        if bundle not in (ios.get("allowedBundleIds") or []):
            raise guesses.api_key_ios_blocked(bundle or EMPTY, service, project_number)


def _referrer_matches(pattern: str, referrer: str) -> bool:
    if not referrer:
        return False
    if "://" not in pattern:
        referrer = re.sub(r"^[a-z][a-z0-9+.-]*://", "", referrer)
    if "/" not in pattern.split("://", 1)[-1]:
        pattern += "/"
        referrer = referrer if "/" in referrer.split("://", 1)[-1] else referrer + "/"
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, referrer, flags=re.IGNORECASE) is not None


def _ip_matches(allowed: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(allowed, strict=False)
    except ValueError:
        return False


def _fingerprint(value: str) -> str:
    return value.replace(":", "").lower()

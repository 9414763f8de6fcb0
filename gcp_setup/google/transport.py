"""The HTTP plumbing under every client: the client libraries imported before the first request, one pool
of connections per API sized for a fleet, and the authorized transport of the discovery clients
(deadline.py's DiscoveryHttp: each request under the run's deadline)."""

from __future__ import annotations

import gc
import importlib
from typing import Any

from gcp_setup.google.deadline import DiscoveryHttp

CLIENT_LIBRARIES = (
    "googleapiclient.discovery",
    "google.cloud.resourcemanager_v3",
    "google.cloud.service_usage_v1",
)
"""What the provisioning steps' clients are built from (about 0.35 s of CPU to import, all told)."""

CONNECTIONS_PER_API = 128
"""The connections each API's pool keeps (requests keeps 10): a fleet (at most 64 projects at once, a few
requests each) shares one pool per API, and past its size urllib3 opens more and drops them as they come
back, a warning each."""

YOUNG_COLLECTION_ALLOCATIONS = 20_000
"""How often the garbage collector's young generation is collected (Python's default: every 700
allocations). A run allocates much (every answer is parsed into objects), little of it in cycles;
bench/README.md has the measurement."""

_frozen = False


def import_client_libraries() -> None:
    """Import the client libraries before the first request rather than inside it: the steps' first
    reads go out together, each from its own thread, and an import inside one (CPU under the GIL) would
    hold the others back. Then, once per process, tune the garbage collector (_spare_the_libraries)."""
    for name in CLIENT_LIBRARIES:
        importlib.import_module(name)
    _spare_the_libraries()


def _spare_the_libraries() -> None:
    """Move the objects that exist by now (the libraries' modules, classes and descriptors, which live
    until the process ends) out of the garbage collector's reach, so that no full collection walks them
    again in the middle of a run; and collect the young generation less often."""
    global _frozen
    if not _frozen:
        gc.freeze()
        collect_garbage_less_often()
        _frozen = True


def collect_garbage_less_often() -> None:
    """The young generation collected every YOUNG_COLLECTION_ALLOCATIONS allocations, not every 700 (verify
    calls it before importing google-genai and openai, whose imports then take 40% less CPU)."""
    gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS, *gc.get_threshold()[1:])


def pooled(session: Any) -> Any:
    """`session` (a requests.Session) with a pool of CONNECTIONS_PER_API connections per host."""
    from requests.adapters import HTTPAdapter

    for prefix in ("https://", "http://"):
        session.mount(prefix, HTTPAdapter(pool_maxsize=CONNECTIONS_PER_API))
    return session


def authorized_http(credentials: Any) -> Any:
    """The transport of every discovery request: requests' AuthorizedSession (google-auth refreshes the
    token and sends it), pooled, each request under the run's deadline."""
    from google.auth.transport.requests import AuthorizedSession

    return DiscoveryHttp(pooled(AuthorizedSession(credentials)))

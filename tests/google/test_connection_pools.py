"""One client and one connection pool per API, shared by a session's threads (gcp_setup/google/session.py):
many threads' requests at once, held together in flight by the emulator's barrier, go through the one
client of their API, and none of their connections is dropped for a pool that is too small (urllib3
warns "Connection pool is full" past requests' default of 10)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from google.cloud.resourcemanager_v3 import ProjectsClient

from gcp_setup.google.apikeys import ApiKeysClient
from gcp_setup.google.resourcemanager import ResourceManagerClient
from gcp_setup.google.session import GoogleSession

PROJECT = "pool-test-1"
AT_ONCE = 16
"""Requests in flight together per API, beyond requests' default pool of 10."""


def test_threads_share_one_client_and_one_pool_per_api(emu, make_project, caplog):
    make_project(PROJECT, services=("apikeys.googleapis.com",))
    session = GoogleSession.create(emu.host)
    emu.clear_requests()
    emu.set_realism(barrier=2 * AT_ONCE)  # no request is answered until all are in flight
    caplog.set_level(logging.WARNING, logger="urllib3")

    def google_cloud() -> object:  # Resource Manager: a google-cloud client
        assert ResourceManagerClient(session).get_project(PROJECT) is not None
        return session.cloud_client(ProjectsClient, "cloudresourcemanager")

    def discovery() -> object:  # API Keys: a discovery client
        assert ApiKeysClient(session).list(PROJECT) == []
        return session.transport()

    with ThreadPoolExecutor(2 * AT_ONCE) as pool:
        futures = [pool.submit(kind) for kind in (google_cloud, discovery) for _ in range(AT_ONCE)]
        used = [future.result() for future in futures]

    assert emu.concurrency() == {"in_flight": 0, "max_in_flight": 2 * AT_ONCE, "barrier_timeouts": 0}
    assert len({id(client) for client in used[:AT_ONCE]}) == 1  # one google-cloud client for the API
    assert len({id(transport) for transport in used[AT_ONCE:]}) == 1  # one discovery transport
    assert [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()] == []

"""A fleet file (gcp-setup.toml with [[projects]]) through the real CLI, one process, against the emulator:
mixed new and existing projects with one failing on purpose, the re-run that writes nothing, --only,
the JSON document, bad input in one entry, and status, verify and destroy on the file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner

from gcp_setup.cli import cli
from gcp_setup.emulator.billing.models import OPEN_ACCOUNT

OPEN = OPEN_ACCOUNT.removeprefix("billingAccounts/")
NEW = [f"fleet-new-{i:02d}" for i in range(1, 13)]
EXISTING = [f"fleet-old-{i:02d}" for i in range(1, 8)]
MISSING = "fleet-gone-01"
"""Not created (create = false in its entry) and not there: fails on purpose."""


def gcp_setup(*args: str):
    return CliRunner().invoke(cli, list(args))


def write_fleet(directory: Path, entries: list[str], shared: str = "") -> Path:
    lines = [f'billing-account = "{OPEN}"', "create = true", shared]
    for entry in entries:
        lines += ["", "[[projects]]", entry]
    path = directory / "gcp-setup.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def mixed_fleet(directory: Path) -> Path:
    entries = [f'project = "{p}"' for p in NEW + EXISTING]
    entries[0] += '\nlabels = { team = "ml" }'
    entries.append(f'project = "{MISSING}"\ncreate = false')
    return write_fleet(directory, entries)


def test_a_fleet_of_twenty_runs_in_one_process_and_one_failure_stops_no_other(
    provision_env, clean_config, make_project
):
    for project in EXISTING:
        make_project(project)
    mixed_fleet(clean_config)

    first = gcp_setup("apply", "--yes", "--parallelism", "8")
    assert first.exit_code == 1, first.output  # the contract: 1 when any entry failed
    rows = {line.split()[0]: line for line in first.stdout.splitlines()[1:-1]}
    assert set(rows) == {*NEW, *EXISTING, MISSING}
    assert all(" changed " in rows[p] for p in NEW + EXISTING), first.stdout
    assert re.search(r"failed .*does not exist", rows[MISSING])
    assert first.stdout.splitlines()[-1] == "20 project(s): 19 ok, 1 failed."
    creates = [r for r in provision_env.writes() if r["method_id"] == "cloudresourcemanager.projects.create"]
    assert len(creates) == len(NEW)
    for project in NEW:  # no first read below a project the fleet creates (engine/speculation.py)
        reads = [
            r["method_id"] for r in provision_env.requests() if project in r["path"] and r["kind"] != "write"
        ]
        assert [m for m in reads if ".operations." not in m] == [
            "cloudresourcemanager.projects.get",
            "cloudresourcemanager.projects.getIamPolicy",  # the role grant's read-modify-write
        ], reads
    provision_env.clear_requests()

    again = gcp_setup("apply", "--yes", "--format", "json")
    assert again.exit_code == 1, again.output
    document = json.loads(again.stdout)
    assert set(document["projects"]) == {*NEW, *EXISTING, MISSING}
    assert [p for p, d in document["projects"].items() if not d["ok"]] == [MISSING]
    assert provision_env.writes() == []
    reads = provision_env.requests()
    for project in NEW + EXISTING:
        mine = [r for r in reads if project in r["path"]]
        assert len(mine) <= 6, [r["path"] for r in mine]
        # The project's read first; the others once it was answered (engine/speculation.py).
        first, *others = sorted(mine, key=lambda r: r["arrived"])
        assert first["method_id"] == "cloudresourcemanager.projects.get"
        assert all(r["arrived"] >= first["at"] for r in others), mine


def test_only_picks_entries_and_plan_reports_each(provision_env, clean_config):
    write_fleet(clean_config, [f'project = "{p}"' for p in NEW[:3]])
    result = gcp_setup("plan", "--only", f"{NEW[0]},{NEW[2]}", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[1:-1]] == [NEW[0], NEW[2]]
    assert "changes pending" in result.stdout
    assert provision_env.writes() == []


def test_bad_input_in_one_entry_is_a_usage_error_naming_it_before_any_request(provision_env, clean_config):
    write_fleet(clean_config, [f'project = "{NEW[0]}"', 'project = "Bad_ID"'])
    result = gcp_setup("apply", "--yes")
    assert result.exit_code == 2
    assert "gcp-setup.toml projects[1]: project ID 'Bad_ID'" in result.output
    assert "Traceback" not in result.output
    assert provision_env.requests() == []


def test_project_flag_with_a_fleet_file_names_only(provision_env, clean_config):
    write_fleet(clean_config, [f'project = "{NEW[0]}"'])
    result = gcp_setup("plan", "--project", NEW[0])
    assert result.exit_code == 2
    assert "--only" in result.output


def test_on_a_terminal_each_running_project_has_one_live_line():
    import io

    from gcp_setup.fleet.report import FleetProgress
    from gcp_setup.fleet.run import ProjectResult

    screen = io.StringIO()
    progress = FleetProgress(screen, live=True)
    progress.started("proj-live-1")
    progress.started("proj-live-2")
    progress.note("proj-live-1", "project", "creating")
    progress.finished(ProjectResult("proj-live-1", config=None, error=RuntimeError("boom")))
    text = screen.getvalue()
    assert "\x1b[2A" in text  # redrawn in place: back up over the two running lines
    assert text.rstrip("\n").endswith("proj-live-2: started (0 s)")
    assert "proj-live-1: failed in 0.0 s" in text


VERIFIED = [f"fleet-vfy-{i:02d}" for i in range(1, 4)]
SA_PATH = "/v1/projects/{0}/serviceAccounts/gemini-client@{0}.iam.gserviceaccount.com"


def test_status_verify_and_destroy_take_the_fleet_file_or_only_some_of_it(provision_env, clean_config):
    write_fleet(clean_config, [f'project = "{p}"\nenv-file = "{p}.env"' for p in VERIFIED])
    assert gcp_setup("apply", "--yes").exit_code == 0

    status = gcp_setup("status", "--detailed-exitcode")
    assert status.exit_code == 0, status.output
    assert [line.split()[1:3] for line in status.stdout.splitlines()[1:-1]] == [["in", "sync"]] * 3

    verified = gcp_setup("verify", "--only", "gemini-api", "--junit", "report.xml")
    assert verified.exit_code == 0, verified.output
    suites = ElementTree.parse(clean_config / "report.xml").getroot()
    assert [s.get("name") for s in suites] == [f"gcp-setup verify: {p}" for p in VERIFIED]  # one per project
    assert [line.split()[:2] for line in verified.stdout.splitlines()[1:-1]] == [
        [p, "passed"] for p in VERIFIED
    ]

    broken = clean_config / f"{VERIFIED[1]}.env"  # its key replaced by one Google does not know
    broken.write_text(
        re.sub(r"GEMINI_API_KEY=.*", "GEMINI_API_KEY=AIzaNotAKeyOfThisWorld", broken.read_text())
    )
    one = gcp_setup("verify", "--only", f"{VERIFIED[1]},gemini-api", "--format", "json")
    assert one.exit_code == 1, one.output  # the fleet's contract: 1 when any project failed
    document = json.loads(one.stdout)
    assert (document["command"], list(document["projects"])) == ("verify", [VERIFIED[1]])
    member = document["projects"][VERIFIED[1]]
    assert [c["name"] for c in member["verify"]["checks"]] == ["gemini-api"]
    assert member["error"].startswith("verify: gemini-api")
    assert "AIzaNotAKeyOfThisWorld" not in one.output  # a key string is never printed

    unknown = gcp_setup("verify", "--only", "fleet-vfy-99")
    assert unknown.exit_code == 2
    assert "--only fleet-vfy-99: not a check nor a project of the fleet file" in unknown.output
    provision_env.clear_requests()

    destroyed = gcp_setup("destroy", "--yes", "--only", VERIFIED[2])
    assert destroyed.exit_code == 0, destroyed.output
    deleted = [(r["method_id"], r["path"]) for r in provision_env.writes()]
    assert ("iam.projects.serviceAccounts.delete", f"{SA_PATH.format(VERIFIED[2])}") in deleted, deleted
    assert sorted(m for m, _ in deleted) == sorted(set(m for m, _ in deleted)), deleted  # one project's
    after = gcp_setup("status", "--detailed-exitcode")
    assert after.exit_code == 2, after.output
    pending = [line.split()[0] for line in after.stdout.splitlines()[1:-1] if "changes pending" in line]
    assert (
        pending == VERIFIED[1:]
    )  # the .env with a foreign key to rewrite; the destroyed project's resources

    (clean_config / f"{VERIFIED[0]}.env").unlink()
    unreadable = gcp_setup("verify")
    assert unreadable.exit_code == 2, unreadable.output
    assert f"Error: gcp-setup.toml projects[0] env-file {VERIFIED[0]}.env: No such file" in unreadable.output

"""Build the emulator's snapshot of Google's predefined IAM roles (dev tool).

Every permission check of the emulator and its `roles.get` / `roles.list` / `queryGrantableRoles` read one
file, emulator/data/iam-roles.json.xz: each predefined role's name, title, description, stage, etag and real
permission list, as `gcloud iam roles describe` prints them. The source is a clone of
github.com/darkbitio/gcp-iam-role-permissions (one JSON file per role under roles/, refreshed daily from
Google's `roles.list?view=FULL`):

    .venv/bin/python tools/iam_roles.py PATH_TO_CLONE   # rewrites emulator/data/iam-roles.json.xz

The file keeps each permission once (roles refer to them by index) and is LZMA-compressed: 2,387 roles and
13,715 permissions take about 160 kB instead of 6.5 MB.
"""

from __future__ import annotations

import json
import lzma
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "gcp_setup" / "emulator" / "data" / "iam-roles.json.xz"


def _git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(clone), *args], capture_output=True, text=True, check=True).stdout


def snapshot(clone: Path) -> dict:
    commit, date = _git(clone, "log", "-1", "--format=%H %cs").split()
    roles = []
    for name in sorted(_git(clone, "ls-tree", "--name-only", "HEAD", "roles/").split()):
        roles.append(json.loads(_git(clone, "show", f"HEAD:{name}")))
    permissions = sorted({p for role in roles for p in role.get("includedPermissions", [])})
    index = {p: i for i, p in enumerate(permissions)}
    return {
        "source": f"github.com/darkbitio/gcp-iam-role-permissions at {commit}",
        "date": date,
        "permissions": permissions,
        "roles": [
            {
                "name": role["name"],
                "title": role.get("title", ""),
                "description": role.get("description", ""),
                "stage": role.get("stage", "GA"),
                "etag": role.get("etag", "AA=="),
                "permissions": [index[p] for p in role.get("includedPermissions", [])],
            }
            for role in roles
        ],
    }


def main(clone: str) -> None:
    text = json.dumps(snapshot(Path(clone)), separators=(",", ":"), sort_keys=True)
    DATA.write_bytes(lzma.compress(text.encode(), preset=9))
    print(f"wrote {DATA} ({DATA.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])

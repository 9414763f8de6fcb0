"""Step: what an interrupted run left behind around the secret files, found and cleaned up.

A service-account key exists on Google's side before any file holds it. So the key is created only
after the run has durably noted, beside the key file, that it is about to create one and which keys the
account had then (`noted_key_creation`); the note goes once the key file is written. A run killed in
between leaves the note: the next run's observe reads it, lists the account's keys, and finds the keys
that are neither noted nor in the key file, keys no file holds (a private key nobody can use or
rotate). A run killed inside a file write leaves its temporary file, `.NAME.XXXX.tmp`, beside the file
(for a key file it may hold a whole private key). Both show up in the plan as cleanup actions, which
apply carries out; observe only reads. The step also says when a secret file's mode is looser than
0600 (kept: the mode is its owner's).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from gcp_setup.errors import GoogleApiError
from gcp_setup.google.iam import IamClient, key_id_of_file
from gcp_setup.secrets.files import loose_mode_note, stray_temp_files, write_secret_file, write_target
from gcp_setup.steps.adc.kind import FILE_MODES, credentials_file
from gcp_setup.steps.base import Action, Context, Step

NOTE_SUFFIX = ".creating"


def note_path(key_file: Path) -> Path:
    target = write_target(key_file)
    return target.parent / f".{target.name}{NOTE_SUFFIX}"


@dataclass(frozen=True)
class KeyCreationNote:
    account: str
    """The service account's email."""
    keys_before: tuple[str, ...]
    """The account's user-managed key IDs before the creation."""


def read_note(key_file: Path) -> KeyCreationNote | None:
    try:
        data = json.loads(note_path(key_file).read_text())
        return KeyCreationNote(str(data["account"]), tuple(str(k) for k in data["keys_before"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def key_id(key: dict[str, Any]) -> str:
    return str(key.get("name", "")).rsplit("/", 1)[-1]


@contextmanager
def noted_key_creation(key_file: Path, account: str, keys: list[dict[str, Any]]) -> Iterator[None]:
    """Note (written and fsynced before the key is created) that a key of `account`, whose keys are
    `keys` now, is about to be created for `key_file`; the note goes when the block ends without error.
    On an error it stays: the key may exist (an answer lost on the way), and the next run looks."""
    note = KeyCreationNote(account, tuple(key_id(k) for k in keys))
    path = note_path(key_file)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"account": note.account, "keys_before": list(note.keys_before)}, f)
        f.flush()
        os.fsync(f.fileno())
    yield
    path.unlink(missing_ok=True)


def create_key_file(iam: IamClient, project: str, email: str, key_file: Path) -> None:
    """A new key of `email`, written to `key_file`; created only once the creation is noted."""
    with noted_key_creation(key_file, email, iam.list_user_keys(project, email)):
        _, data = iam.create_key_file(project, email)
        write_secret_file(key_file, data)


def credentials_files(ctx: Context) -> set[Path]:
    """Where either kind of credentials file (impersonation ADC, key file) goes in this configuration."""
    return {credentials_file(ctx.config, mode) for mode in FILE_MODES}


def secret_paths(ctx: Context) -> list[Path]:
    """The secret files this configuration may write: both kinds of credentials file, and the .env."""
    paths = credentials_files(ctx)
    if ctx.config.env_file is not None:
        paths.add(Path(ctx.config.env_file).expanduser())
    return sorted(paths)


@dataclass
class LeftoverState:
    note_file: Path | None = None
    """The note of a key creation a run did not finish."""
    orphaned_keys: list[str] = field(default_factory=list)
    """Names of keys that note's run created and no file holds."""
    temp_files: list[Path] = field(default_factory=list)
    loose_modes: list[str] = field(default_factory=list)


class SecretFilesStep(Step):
    name = "secret_files"
    depends_on: ClassVar[tuple[str, ...]] = ("services", "service_account")
    reads = {"services": ("enabled_now",)}

    def observe(self, ctx: Context) -> LeftoverState:

        state = LeftoverState()
        for path in secret_paths(ctx):
            state.temp_files += stray_temp_files(path)
            state.loose_modes += [note for note in [loose_mode_note(path)] if note]
            note = read_note(path)
            if note is None:
                continue
            state.note_file = note_path(path)
            held = key_id_of_file(path.read_bytes()) if path.is_file() else None
            listed = self._keys_of(ctx, note.account)
            state.orphaned_keys += [
                k["name"] for k in listed if key_id(k) not in note.keys_before and key_id(k) != held
            ]
        return state

    @staticmethod
    def _keys_of(ctx: Context, email: str) -> list[dict[str, Any]]:

        project = email.partition("@")[2].split(".", 1)[0]
        try:
            return IamClient(ctx.session).list_user_keys(project, email)
        except GoogleApiError as exc:
            if exc.code == 404:  # the account is gone, and its keys with it
                return []
            raise

    def plan(self, ctx: Context, state: LeftoverState) -> list[Action]:
        actions = []
        if state.note_file is not None:
            ids = ", ".join(name.rsplit("/", 1)[-1] for name in state.orphaned_keys)
            what = (
                f"delete key {ids}, which an interrupted run created and no file holds, and " if ids else ""
            )
            actions.append(
                Action(
                    "delete",
                    str(state.note_file),
                    f"{what}remove the note {state.note_file} of that run",
                    {"what": "interrupted_key", "keys": list(state.orphaned_keys)},
                )
            )
        if state.temp_files:
            listed = ", ".join(str(p) for p in state.temp_files)
            actions.append(
                Action(
                    "delete",
                    str(state.temp_files[0].parent),
                    f"remove temporary file(s) an interrupted write left: {listed}",
                    {"what": "temp_files", "paths": [str(p) for p in state.temp_files]},
                )
            )
        return actions

    def apply(self, ctx: Context, action: Action) -> None:
        if action.data["what"] == "interrupted_key":
            for name in action.data["keys"]:
                IamClient(ctx.session).delete_key(name)
            Path(action.resource).unlink(missing_ok=True)
        else:
            for path in action.data["paths"]:
                Path(path).unlink(missing_ok=True)

    def state_after(self, ctx: Context, state: LeftoverState, action: Action, answer: None) -> LeftoverState:
        if action.data["what"] == "interrupted_key":
            return replace(state, note_file=None, orphaned_keys=[])
        return replace(state, temp_files=[])

    def describe(self, ctx: Context, state: LeftoverState) -> str:
        return "; ".join(state.loose_modes) or "nothing left behind by an interrupted run"


class SecretFilesCleanup(SecretFilesStep):
    """The same cleanup in `destroy`, where it waits for nothing."""

    depends_on = ()
    reads = {}

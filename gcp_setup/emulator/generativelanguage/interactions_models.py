"""Interactions API state (the Gemini API's `/v1beta/interactions`): the interactions a project stored, each
with the turns it holds, and a background interaction's finishing time on the world's clock. No HTTP here.

An interaction belongs to the project of the key that created it: another project's key finds nothing, as
for an id that never existed. One stored with `store=false` is answered once and kept nowhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from gcp_setup.emulator import guesses
from gcp_setup.emulator.core import errors
from gcp_setup.emulator.core.world import Backend, World, backend

IN_PROGRESS, COMPLETED, CANCELLED = "in_progress", "completed", "cancelled"
TERMINAL = frozenset({COMPLETED, CANCELLED, "failed", "incomplete"})


@dataclass
class Interaction:
    id: str
    project_number: str
    model: str
    created: float
    user_text: str
    """The text of this turn's input."""
    history: list[tuple[str, str]] = field(default_factory=list)
    """(user text, model text) of every earlier turn in the chain, oldest first."""
    previous_interaction_id: str | None = None
    system_instruction: str | None = None
    background: bool = False
    store: bool = True
    status: str = COMPLETED
    updated: float = 0.0
    ready_at: float = 0.0
    """When a background interaction finishes, on the world's clock."""
    reply: str = ""

    @property
    def turns(self) -> list[tuple[str, str]]:
        """The chain through this interaction: what a later one chained on it answers from."""
        return [*self.history, (self.user_text, self.reply)]


def interaction_not_found(interaction_id: str) -> errors.InteractionsError:
    return errors.InteractionsError(404, "not_found", f"Interaction {interaction_id} not found.")


@backend
class InteractionsBackend(Backend):
    name = "interactions"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.stored: dict[str, Interaction] = {}
        self.created = 0

    def new_id(self) -> str:
        """Deterministic across runs of the emulator."""
        self.created += 1
        return "v1_" + hashlib.sha256(f"interaction-{self.created}".encode()).hexdigest()[:40]

    def create(self, interaction: Interaction) -> Interaction:
        interaction.updated = interaction.created
        if interaction.background:
            interaction.status = IN_PROGRESS
            interaction.ready_at = interaction.created + guesses.BACKGROUND_INTERACTION_SECONDS
        if interaction.store:
            self.stored[interaction.id] = interaction
        return interaction

    def get(self, project_number: str, interaction_id: str) -> Interaction:
        found = self.stored.get(interaction_id)
        if found is None or found.project_number != project_number:
            raise interaction_not_found(interaction_id)
        self._settle(found)
        return found

    def previous(self, project_number: str, interaction_id: str) -> Interaction:
        """The interaction a new one chains on: stored, and finished (Google's rule for the field)."""
        found = self.get(project_number, interaction_id)
        if found.status != COMPLETED:
            raise guesses.previous_interaction_not_completed(interaction_id, found.status)
        return found

    def delete(self, project_number: str, interaction_id: str) -> None:
        self.get(project_number, interaction_id)
        del self.stored[interaction_id]

    def cancel(self, project_number: str, interaction_id: str) -> Interaction:
        found = self.get(project_number, interaction_id)
        if not found.background or found.status in TERMINAL:
            raise guesses.interaction_not_cancellable(interaction_id, found.status)
        found.status, found.updated = CANCELLED, self.world.now()
        return found

    def _settle(self, interaction: Interaction) -> None:
        """A background interaction finishes once the clock has passed its time (tests move the clock)."""
        if interaction.status == IN_PROGRESS and self.world.now() >= interaction.ready_at:
            interaction.status, interaction.updated = COMPLETED, interaction.ready_at

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, "stored": {k: vars(v) for k, v in self.stored.items()}}

    def load_json(self, data: dict[str, Any]) -> None:
        self.created = int(data.get("created", 0))
        self.stored = {
            k: Interaction(**{**v, "history": [tuple(t) for t in v.get("history", [])]})
            for k, v in (data.get("stored") or {}).items()
        }

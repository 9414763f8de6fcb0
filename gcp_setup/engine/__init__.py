"""The engine: steps run in dependency order, each observe -> plan -> apply -> the state it left
(graph.py), with every first observation sent at the start of the run (speculation.py)."""

from gcp_setup.engine.graph import Engine, Mode, RunResult, StepResult, order_steps

__all__ = ["Engine", "Mode", "RunResult", "StepResult", "order_steps"]

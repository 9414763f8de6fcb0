"""Deterministic embeddings: the same model, task type and text always give the same vector.

Dimensions are the documented ones: gemini-embedding-001 and gemini-embedding-2 give 3072 values by default
and take an output dimensionality from 128 to 3072 (Matryoshka: the first N values of the full vector, so a
shortened vector is no longer unit length, as Google warns); text-embedding-005 and
text-multilingual-embedding-002 (Vertex AI only) give 768, and take 1 to 768.
"""

from __future__ import annotations

import hashlib
import math
import random

from gcp_setup.emulator import guesses

DIMENSIONS = {
    "gemini-embedding-001": (3072, 128),
    "gemini-embedding-2": (3072, 128),
    "text-embedding-005": (768, 1),
    "text-multilingual-embedding-002": (768, 1),
}
"""model -> (default and largest number of dimensions, smallest)"""


def is_embedding_model(model: str) -> bool:
    return model in DIMENSIONS


def dimensions(model: str, requested: int | None) -> int:
    full, smallest = DIMENSIONS[model]
    if requested is None:
        return full
    if not smallest <= int(requested) <= full:
        raise guesses.output_dimensionality_out_of_range(int(requested), smallest, full)
    return int(requested)


def vector(model: str, text: str, task_type: str | None, size: int) -> list[float]:
    seed = hashlib.sha256(f"{model}|{task_type or ''}|{text}".encode()).digest()
    rng = random.Random(seed)
    full = [rng.gauss(0.0, 1.0) for _ in range(DIMENSIONS[model][0])]
    norm = math.sqrt(sum(v * v for v in full))
    return [round(v / norm, 7) for v in full[:size]]

"""A model closed to new users (gemini-2.5-flash; every emulated project is new) answers "no longer available
to new users" on every path a user takes: google-genai on the Gemini API and on Agent Platform (Vertex AI),
express mode, and the openai library on both OpenAI-compatible endpoints."""

from __future__ import annotations

import json

import openai
import pytest
from dataplane import make_plane
from google.genai import errors as genai_errors

RETIRED = "gemini-2.5-flash"
WORDS = "is no longer available to new users"


@pytest.fixture
def plane(world, emu):
    return make_plane(world, emu.url)


@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_google_genai(plane, path) -> None:
    client = {"gemini": plane.gemini, "vertex": plane.vertex, "express": plane.express}[path]()
    with pytest.raises(genai_errors.APIError) as raised:
        client.models.generate_content(model=RETIRED, contents="Hi")
    assert raised.value.code == 404 and WORDS in raised.value.message


@pytest.mark.parametrize("path", ["gemini", "vertex", "express"])
def test_openai(plane, path) -> None:
    model = RETIRED if path == "gemini" else f"google/{RETIRED}"
    with pytest.raises(openai.NotFoundError) as raised:
        plane.openai(path).chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
    assert WORDS in json.dumps(raised.value.body)

"""The sample fleet. To be written."""

from __future__ import annotations

from sqlalchemy import Engine


def load_sample(engine: Engine) -> str:
    return "sample fleet not available yet"

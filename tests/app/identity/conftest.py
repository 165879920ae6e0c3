"""Fixtures for the identity tests."""

from __future__ import annotations

import pytest

from app.metrics import Metrics


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()

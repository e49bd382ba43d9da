"""Shared test set-up: no telemetry, no network, and a private data home per test session."""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

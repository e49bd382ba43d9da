"""Sijil's assets and the shared bottom layer (settings, profiles, warehouse)."""

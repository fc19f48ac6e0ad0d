"""Shared test helpers: sessions with a prefix, the ESM test kit, recorded event fixtures."""

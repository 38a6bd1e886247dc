"""Helpers shared by the test packages (imported by name; conftest files only define fixtures)."""

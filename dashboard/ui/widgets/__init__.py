"""Widgets of the dashboard: the virtual table, headline cards, status bar."""

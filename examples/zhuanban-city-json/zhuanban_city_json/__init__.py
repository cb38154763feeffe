"""A third-party plugin for 专班看板: the `city_json` source (a city platform's JSON export)."""

__version__ = "0.1.0"

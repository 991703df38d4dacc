"""nps-service: collect NPS survey answers and compute a platform's global NPS."""

__version__ = "0.1.0"

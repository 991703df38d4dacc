"""Key drivers: which dimension moves the overall score, and which to improve first."""

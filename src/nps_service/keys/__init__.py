"""API keys: creation, hashing, scope checks."""

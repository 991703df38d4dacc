"""The `<nps-survey>` browser widget: an ES module served, without a key, from the service."""

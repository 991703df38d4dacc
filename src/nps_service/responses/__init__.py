"""Survey answers: ingest, storage and listing."""

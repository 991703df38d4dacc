"""The HTTP kit every router shares: problem+json, body guards, the OpenAPI document,
the session per request and content negotiation."""

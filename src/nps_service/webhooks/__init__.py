"""Telling other services: webhook endpoints, the event outbox, signed deliveries."""

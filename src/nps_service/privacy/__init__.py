"""Personal data: erasing a person, expiring identifiers, the audit log."""

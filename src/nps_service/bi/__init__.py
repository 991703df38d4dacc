"""The read-only SQL surface for BI tools: let a database login read the `nps_bi` views.

Migration 0010 creates the schema `nps_bi` (its views are documented there and in the
README) and the NOLOGIN role `nps_bi_reader`, which may read those views and nothing else.
`grant_reader` makes a login a member of that role, first creating the role and applying
its grants again when the migration could not (the migrating user may not create roles).
"""

from nps_service.bi.grants import READER, SCHEMA, GrantError, grant_reader

__all__ = ["READER", "SCHEMA", "GrantError", "grant_reader"]

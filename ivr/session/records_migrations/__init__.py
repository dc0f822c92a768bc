"""Versioned PostgreSQL migrations of the call records: ``NNNN_name.sql``,
applied in order at start-up by ``records_pg.migrate`` and noted in the
``schema_version`` table. A file, once released, is never edited: a change is
a new file."""

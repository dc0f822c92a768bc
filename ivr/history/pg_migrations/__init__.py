"""Versioned PostgreSQL migrations of the shared caller history: ``NNNN_name.sql``,
applied in order at open by ``history.pg_store`` and noted in the
``history_schema_version`` table (the records keep their own ``schema_version``:
both may live in one database). A released file is never edited: a change is
a new file."""

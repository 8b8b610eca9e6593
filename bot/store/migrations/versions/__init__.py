"""Alembic revisions, one file each; 0001-0005 reproduce the schema of the former numbered .sql files."""

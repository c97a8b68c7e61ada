"""SQLAlchemy models, sessions and Alembic migrations: the read model and the audit trail."""

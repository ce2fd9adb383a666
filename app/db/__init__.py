"""Database access: engine, ORM models, queries and bulk loading."""

"""Database engines (SQLite by default, PostgreSQL in production) and migrations.

Modules: ``engine`` (Database), ``urls``, ``schema`` (tables), ``migrate`` (Alembic).
"""

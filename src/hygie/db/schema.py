"""Every table Hygie owns, in one SQLAlchemy ``MetaData``; migrations create them.

The FHIR store keeps one row per resource (current version), one per version in the
history, and search-index rows per search parameter value. Index rows point at
``fhir_resource.seq`` so that a search is a semi-join on integers.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

# An integer primary key that is SQLite's rowid alias and a BIGSERIAL elsewhere.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

fhir_resource = Table(
    "fhir_resource",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("resource_type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    # Microseconds since the Unix epoch (UTC): the same integer on every backend.
    Column("last_updated", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    # The resource as stored JSON bytes (meta included), served as-is on reads.
    Column("content", LargeBinary, nullable=True),
    UniqueConstraint("resource_type", "id"),
    Index("ix_fhir_resource_type_updated", "resource_type", "last_updated"),
)

fhir_history = Table(
    "fhir_history",
    metadata,
    Column("hseq", SeqType, primary_key=True, autoincrement=True),
    Column("resource_type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_updated", BigInteger, nullable=False),
    Column("method", String(8), nullable=False),  # POST, PUT or DELETE
    Column("content", LargeBinary, nullable=True),  # None for a deletion
    UniqueConstraint("resource_type", "id", "version"),
    Index("ix_fhir_history_type_updated", "resource_type", "last_updated"),
    Index("ix_fhir_history_updated", "last_updated"),
)


def _index_table(name: str, *columns: Column[object], lookup: tuple[str, ...]) -> Table:
    return Table(
        name,
        metadata,
        Column("resource_seq", BigInteger, nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("param", String(64), nullable=False),
        *columns,
        # Both covering (search/sql.py): the driving term of a search reads resource_seq
        # by value, the other terms probe a resource's rows by resource_seq and param.
        Index(f"ix_{name}_lookup", "resource_type", "param", *lookup, "resource_seq"),
        Index(f"ix_{name}_probe", "resource_seq", "param", *lookup, "resource_type"),
    )


idx_string = _index_table(
    "fhir_idx_string",
    Column("value", String(256), nullable=False),  # lower-cased, accents removed
    Column("exact", String(256), nullable=False),  # as written, for :exact
    lookup=("value",),
)
idx_token = _index_table(
    "fhir_idx_token",
    Column("system", String(256), nullable=True),
    Column("code", String(256), nullable=True),
    lookup=("code", "system"),
)
idx_reference = _index_table(
    "fhir_idx_reference",
    Column("target_type", String(64), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("url", String(512), nullable=True),  # absolute or canonical references
    lookup=("target_id", "target_type"),
)
idx_date = _index_table(
    "fhir_idx_date",
    Column("low", BigInteger, nullable=False),  # microseconds since epoch, inclusive
    Column("high", BigInteger, nullable=False),  # microseconds since epoch, inclusive
    lookup=("low", "high"),
)
idx_number = _index_table(
    "fhir_idx_number",
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    lookup=("low", "high"),
)
idx_quantity = _index_table(
    "fhir_idx_quantity",
    Column("system", String(256), nullable=True),
    Column("code", String(128), nullable=True),  # Quantity.code, else Quantity.unit
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    lookup=("code", "low"),
)
idx_uri = _index_table(
    "fhir_idx_uri",
    Column("value", String(512), nullable=False),
    lookup=("value",),
)

INDEX_TABLES = {
    "string": idx_string,
    "token": idx_token,
    "reference": idx_reference,
    "date": idx_date,
    "number": idx_number,
    "quantity": idx_quantity,
    "uri": idx_uri,
}

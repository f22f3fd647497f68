"""Database functions the ORM lacks, for the two databases Selfkind runs on."""

from __future__ import annotations

from django.db import models


class AddDays(models.Func):
    """A date plus a number of days (NULL when either is NULL), as a date.

    PostgreSQL adds an integer to a date directly; SQLite's date() takes a modifier."""

    arity = 2
    output_field = models.DateField()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"AddDays is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" + ", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="date(%(expressions)s || ' days')",
            arg_joiner=", '+' || ",
            **extra_context,
        )

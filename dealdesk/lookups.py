"""`column = ANY(%s)`: one array parameter instead of thousands of IN placeholders.

The CRM sync looks up a page of 2,000 CRM ids at a time; as an IN list that is 2,000
parameters to bind and a 2,000-placeholder statement to rewrite on every query.
"""

from django.db.models import Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]

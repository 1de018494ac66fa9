"""Payments reconciled with invoices: the matching decision (pure), the open invoices it is
taken against, and the services that receive payments and import bank statements."""

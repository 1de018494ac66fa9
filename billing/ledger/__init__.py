"""Billing systems the signed contract is billed in (issue 15): the Stripe client, its error
translation and its webhook verification; the ledger Protocol and backends join them here."""

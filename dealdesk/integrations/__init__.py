"""The bottom layer every vendor call, webhook and pipeline step goes through.

Imports only `audit` and Django: contracts, approvals and billing may import it, never the
other way round (docs/architecture.md). See `outbox.py` for how a step is made durable.
"""

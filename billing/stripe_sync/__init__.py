"""Stripe's news brought into our books (BILLING_BACKEND=stripe).

Stripe's webhooks (`webhook.py`, also /webhooks/stripe/) are verified, stored once in the
webhook inbox and handled by a task (`events.py`). Events repeat and arrive in any order, so
no handler trusts an event's copy of an object: each re-fetches it and moves our rows to
what Stripe holds now (`invoices.py`, `charges.py`, `records.py`), and doing that twice
changes nothing. The nightly sweep (`sweep.py`) lists the events since the last one seen and
feeds them through the same inbox, so a webhook Stripe never delivered is still handled.
"""

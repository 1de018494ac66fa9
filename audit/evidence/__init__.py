"""Evidence packs for auditors: `manage.py export_audit` and the Auditors' pages
(docs/evidence.md)."""

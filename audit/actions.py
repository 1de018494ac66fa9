"""Every audit action name, in one enum: `<model>.<past_tense_verb>`.

`audit.services.audit_record` refuses a name that is not here, so dashboards and the
timeline can count and word every event. Events written before these names existed keep
their old names (the chain is immutable): `LEGACY` maps each old name to its new one, and
`action_label` words both alike.
"""

from enum import StrEnum


class Action(StrEnum):
    # Deals (dealdesk)
    DEAL_CREATED = "deal.created"
    DEAL_CLASSIFIED = "deal.classified"
    DEAL_PATTERN_SET = "deal.pattern_set"
    DEAL_CRM_CHANGED = "deal.crm_changed"
    DEAL_DRAFTING_STARTED = "deal.drafting_started"
    DEAL_SUBMITTED_FOR_REVIEW = "deal.submitted_for_review"
    DEAL_APPROVED = "deal.approved"
    DEAL_CHANGES_REQUESTED = "deal.changes_requested"
    DEAL_REDRAFTED = "deal.redrafted"
    DEAL_SENT_TO_MANUAL_REVIEW = "deal.sent_to_manual_review"
    DEAL_RESUMED = "deal.resumed"
    DEAL_CANCELLED = "deal.cancelled"
    DEAL_OWNER_ASSIGNED = "deal.owner_assigned"
    DEAL_DRAFTING_RETRIED = "deal.drafting_retried"  # Deal Desk sent a stuck drafting step again
    # Its stored totals priced again under a new contract version's clauses (free months, ...)
    DEAL_REPRICED = "deal.repriced"
    DEAL_SENT_FOR_SIGNATURE = "deal.sent_for_signature"
    DEAL_SIGNED = "deal.signed"
    DEAL_RETURNED_FROM_SIGNATURE = "deal.returned_from_signature"  # voided or expired
    DEAL_SIGNATURE_DECLINED = "deal.signature_declined"
    DEAL_BILLING_STARTED = "deal.billing_started"
    DEAL_INVOICED = "deal.invoiced"
    DEAL_PAID = "deal.paid"
    # CRM (dealdesk.crm)
    CRM_DRIFT_DETECTED = "crm_drift.detected"
    CRM_DRIFT_ACCEPTED = "crm_drift.accepted"
    CRM_DRIFT_DISMISSED = "crm_drift.dismissed"
    # Contracts
    CONTRACT_TEMPLATE_PUBLISHED = "contract_template.published"
    CONTRACT_TEMPLATE_APPROVED = "contract_template.approved"
    CONTRACT_TEMPLATE_REJECTED = "contract_template.rejected"
    CONTRACT_VERSION_DRAFTED = "contract_version.drafted"
    CONTRACT_VERSION_DOCUMENT_GENERATED = "contract_version.document_generated"
    # A stored document's bytes no longer match the SHA-256 recorded when it was generated.
    CONTRACT_VERSION_DOCUMENT_TAMPERED = "contract_version.document_tampered"
    CONTRACT_VERSION_SUPERSEDED = "contract_version.superseded"
    CONTRACT_VERSION_VOIDED = "contract_version.voided"
    CONTRACT_VERSION_CLAUSE_ACCEPTED = "contract_version.clause_accepted"
    CONTRACT_VERSION_CLAUSE_EDITED = "contract_version.clause_edited"
    CONTRACT_VERSION_CLAUSE_REJECTED = "contract_version.clause_rejected"
    CONTRACT_VERSION_CLAUSE_ADDED = "contract_version.clause_added"
    CONTRACT_VERSION_APPROVED = "contract_version.approved"
    CONTRACT_VERSION_CHANGES_REQUESTED = "contract_version.changes_requested"
    CONTRACT_VERSION_GATES_EVALUATED = "contract_version.gates_evaluated"
    # Approvals
    APPROVAL_REQUEST_OPENED = "approval_request.opened"
    APPROVAL_REQUEST_APPROVED = "approval_request.approved"
    APPROVAL_REQUEST_REJECTED = "approval_request.rejected"
    APPROVAL_REQUEST_SUPERSEDED = "approval_request.superseded"
    APPROVAL_DELEGATION_CREATED = "approval_delegation.created"
    APPROVAL_DELEGATION_REVOKED = "approval_delegation.revoked"
    # E-signature: Finance's table of who countersigns for us (contracts.esign)
    SIGNING_AUTHORITY_CREATED = "signing_authority.created"
    SIGNING_AUTHORITY_CHANGED = "signing_authority.changed"
    CONTRACT_VERSION_EXECUTED = "contract_version.executed"
    SIGNATURE_REQUEST_CREATED = "signature_request.created"
    # Could not go out (no signer, no countersigner, the PDF not the approved one): why.
    SIGNATURE_REQUEST_BLOCKED = "signature_request.blocked"
    SIGNATURE_REQUEST_SENT = "signature_request.sent"
    SIGNATURE_REQUEST_COMPLETED = "signature_request.completed"
    SIGNATURE_REQUEST_DECLINED = "signature_request.declined"
    SIGNATURE_REQUEST_VOIDED = "signature_request.voided"
    SIGNATURE_REQUEST_EXPIRED = "signature_request.expired"
    # A contract signed outside the product (customer paper, wet ink), uploaded by Deal Desk
    SIGNATURE_REQUEST_PAPER_UPLOADED = "signature_request.paper_uploaded"
    # A stored executed contract's bytes no longer match the SHA-256 recorded when stored.
    SIGNATURE_REQUEST_FILE_TAMPERED = "signature_request.file_tampered"
    SIGNER_NOTIFIED = "signer.notified"
    SIGNER_REMINDED = "signer.reminded"
    SIGNER_VIEWED = "signer.viewed"
    SIGNER_SIGNED = "signer.signed"
    SIGNER_DECLINED = "signer.declined"
    SIGNER_LINK_COPIED = "signer.link_copied"
    # Billing (billing): an executed contract in the billing system, and its invoices
    BILLING_RECORD_OPENED = "billing_record.opened"
    BILLING_RECORD_CREATED = "billing_record.created"
    BILLING_RECORD_STOPPED = "billing_record.stopped"  # a billing exception, with its reasons
    BILLING_RECORD_RETRIED = "billing_record.retried"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_DOCUMENT_GENERATED = "invoice.document_generated"
    INVOICE_SENT = "invoice.sent"
    INVOICE_RELEASED = "invoice.released"  # Finance released a first invoice held for review
    INVOICE_PAID = "invoice.paid"
    INVOICE_REOPENED = "invoice.reopened"
    INVOICE_VOIDED = "invoice.voided"
    INVOICE_FILE_TAMPERED = "invoice.file_tampered"
    BILLING_GO_LIVE_SET = "billing_record.go_live_set"
    # Cash (billing/reconciliation, billing/receivables)
    PAYMENT_RECORDED = "payment.recorded"  # entered by Finance
    PAYMENT_RECEIVED = "payment.received"  # from a bank statement or the billing system
    PAYMENT_ALLOCATED = "payment.allocated"  # applied to an invoice (matched or by a person)
    PAYMENT_HELD = "payment.held"
    PAYMENT_REFUNDED = "payment.refunded"
    BANK_MAPPING_SAVED = "bank_mapping.saved"
    BANK_IMPORT_PREVIEWED = "bank_import.previewed"
    BANK_IMPORT_COMMITTED = "bank_import.committed"
    BANK_IMPORT_DISCARDED = "bank_import.discarded"
    AR_ITEM_OPENED = "ar_item.opened"
    AR_ITEM_CHASED = "ar_item.chased"
    AR_ITEM_WRITE_OFF_REQUESTED = "ar_item.write_off_requested"
    AR_ITEM_WRITE_OFF_REJECTED = "ar_item.write_off_rejected"
    AR_ITEM_WRITE_OFF_APPROVED = "ar_item.write_off_approved"  # by the second Finance user
    AR_ITEM_RESOLVED = "ar_item.resolved"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    CREDIT_NOTE_DOCUMENT_GENERATED = "credit_note.document_generated"
    CREDIT_NOTE_SENT = "credit_note.sent"
    CREDIT_NOTE_FILE_TAMPERED = "credit_note.file_tampered"
    REFUND_ISSUED = "refund.issued"
    WRITE_OFF_TOLERANCE_SET = "write_off_tolerance.set"
    # Access (who holds which role or permission: the access review reads these)
    USER_GROUPS_CHANGED = "user.groups_changed"
    USER_PERMISSIONS_CHANGED = "user.permissions_changed"
    GROUP_PERMISSIONS_CHANGED = "group.permissions_changed"
    # Integrations (dealdesk.integrations)
    OUTBOX_MESSAGE_DEAD_LETTERED = "outbox_message.dead_lettered"
    OUTBOX_MESSAGE_RETRIED = "outbox_message.retried"
    WEBHOOK_EVENT_DEAD_LETTERED = "webhook_event.dead_lettered"
    WEBHOOK_EVENT_RETRIED = "webhook_event.retried"
    # Security (dealdesk.security)
    USER_TWO_FACTOR_ENABLED = "user.two_factor_enabled"
    # Evidence for auditors (audit/evidence): packs exported, with their deals and SHA-256
    AUDIT_EVIDENCE_EXPORTED = "audit_event.exported"
    # The exception inbox (inbox/): who took a waiting item, who wants no daily digest
    INBOX_ASSIGNED = "inbox_assignment.assigned"
    INBOX_UNASSIGNED = "inbox_assignment.unassigned"
    INBOX_DIGEST_OPTED_OUT = "inbox_preference.opted_out"
    INBOX_DIGEST_OPTED_IN = "inbox_preference.opted_in"


# Names written before the enum, as they stand in the chain → the action they mean now.
LEGACY: dict[str, Action] = {
    "deal.start_drafting": Action.DEAL_DRAFTING_STARTED,
    "deal.submit_for_review": Action.DEAL_SUBMITTED_FOR_REVIEW,
    "deal.approve": Action.DEAL_APPROVED,
    "deal.request_changes": Action.DEAL_CHANGES_REQUESTED,
    "deal.redraft": Action.DEAL_REDRAFTED,
    "deal.send_to_manual_review": Action.DEAL_SENT_TO_MANUAL_REVIEW,
    "deal.resume": Action.DEAL_RESUMED,
    "deal.cancel": Action.DEAL_CANCELLED,
    "contract.drafted": Action.CONTRACT_VERSION_DRAFTED,
    "contract.document_generated": Action.CONTRACT_VERSION_DOCUMENT_GENERATED,
    "contract.superseded": Action.CONTRACT_VERSION_SUPERSEDED,
    "contract.voided": Action.CONTRACT_VERSION_VOIDED,
    "contract.clause_accepted": Action.CONTRACT_VERSION_CLAUSE_ACCEPTED,
    "contract.clause_edited": Action.CONTRACT_VERSION_CLAUSE_EDITED,
    "contract.clause_rejected": Action.CONTRACT_VERSION_CLAUSE_REJECTED,
    "contract.clause_added": Action.CONTRACT_VERSION_CLAUSE_ADDED,
    "contract.approved": Action.CONTRACT_VERSION_APPROVED,
    "contract.changes_requested": Action.CONTRACT_VERSION_CHANGES_REQUESTED,
    "approvals.gates_evaluated": Action.CONTRACT_VERSION_GATES_EVALUATED,
    "approval.requested": Action.APPROVAL_REQUEST_OPENED,
    "approval.approved": Action.APPROVAL_REQUEST_APPROVED,
    "approval.rejected": Action.APPROVAL_REQUEST_REJECTED,
    "approval.superseded": Action.APPROVAL_REQUEST_SUPERSEDED,
}

# What a person reads; an action missing here is worded from its name.
_LABELS: dict[Action, str] = {
    Action.DEAL_CREATED: "Deal created from the CRM",
    Action.DEAL_PATTERN_SET: "Pattern set",
    Action.DEAL_CRM_CHANGED: "Changed in the CRM",
    Action.DEAL_SENT_TO_MANUAL_REVIEW: "Sent to manual review",
    Action.DEAL_RESUMED: "Resumed from manual review",
    Action.DEAL_DRAFTING_RETRIED: "Drafting retried",
    Action.DEAL_REPRICED: "Totals priced under the contract's clauses",
    Action.CRM_DRIFT_DETECTED: "CRM change waiting for a decision",
    Action.CRM_DRIFT_ACCEPTED: "CRM change accepted",
    Action.CRM_DRIFT_DISMISSED: "CRM change dismissed",
    Action.CONTRACT_VERSION_DRAFTED: "Contract drafted",
    Action.CONTRACT_VERSION_DOCUMENT_GENERATED: "Contract document generated",
    Action.CONTRACT_VERSION_DOCUMENT_TAMPERED: "Contract document altered after it was generated",
    Action.CONTRACT_VERSION_SUPERSEDED: "Contract superseded",
    Action.CONTRACT_VERSION_VOIDED: "Contract voided",
    Action.CONTRACT_VERSION_APPROVED: "Contract approved by Legal",
    Action.CONTRACT_VERSION_CHANGES_REQUESTED: "Legal requested changes",
    Action.CONTRACT_VERSION_GATES_EVALUATED: "Gates evaluated",
    Action.CONTRACT_VERSION_CLAUSE_ACCEPTED: "Clause accepted by Legal",
    Action.CONTRACT_VERSION_CLAUSE_EDITED: "Clause edited by Legal",
    Action.CONTRACT_VERSION_CLAUSE_REJECTED: "Clause removed by Legal",
    Action.CONTRACT_VERSION_CLAUSE_ADDED: "Clause added by Legal",
    Action.APPROVAL_REQUEST_OPENED: "Approval requested",
    Action.APPROVAL_REQUEST_APPROVED: "Approval granted",
    Action.APPROVAL_REQUEST_REJECTED: "Approval refused",
    Action.APPROVAL_REQUEST_SUPERSEDED: "Approval request superseded",
    Action.SIGNING_AUTHORITY_CREATED: "Signing authority granted",
    Action.SIGNING_AUTHORITY_CHANGED: "Signing authority changed",
    Action.DEAL_SENT_FOR_SIGNATURE: "Sent for signature",
    Action.DEAL_SIGNED: "Signed by every party",
    Action.DEAL_RETURNED_FROM_SIGNATURE: "Back from signature (voided or expired)",
    Action.DEAL_SIGNATURE_DECLINED: "Signature declined",
    Action.CONTRACT_VERSION_EXECUTED: "Contract executed",
    Action.SIGNATURE_REQUEST_CREATED: "Signature request prepared",
    Action.SIGNATURE_REQUEST_BLOCKED: "Signature request could not go out",
    Action.SIGNATURE_REQUEST_SENT: "Signature request sent",
    Action.SIGNATURE_REQUEST_COMPLETED: "Signature request completed",
    Action.SIGNATURE_REQUEST_DECLINED: "Signature request declined",
    Action.SIGNATURE_REQUEST_VOIDED: "Signature request voided",
    Action.SIGNATURE_REQUEST_EXPIRED: "Signature request expired",
    Action.SIGNATURE_REQUEST_PAPER_UPLOADED: "Contract signed on paper uploaded",
    Action.SIGNATURE_REQUEST_FILE_TAMPERED: "Executed contract altered on disk: not served",
    Action.SIGNER_NOTIFIED: "Signer sent the contract",
    Action.SIGNER_REMINDED: "Signer reminded",
    Action.SIGNER_VIEWED: "Signer opened the contract",
    Action.SIGNER_SIGNED: "Signer signed",
    Action.SIGNER_DECLINED: "Signer declined",
    Action.SIGNER_LINK_COPIED: "Signing link copied by Deal Desk",
    Action.DEAL_BILLING_STARTED: "In billing: the billing record matches the contract",
    Action.DEAL_INVOICED: "First invoice issued",
    Action.DEAL_PAID: "First invoice paid",
    Action.BILLING_RECORD_OPENED: "Billing started from the executed contract",
    Action.BILLING_RECORD_CREATED: "Billing record created and checked against the contract",
    Action.BILLING_RECORD_STOPPED: "Billing exception",
    Action.BILLING_RECORD_RETRIED: "Billing retried by Finance",
    Action.INVOICE_ISSUED: "Invoice issued",
    Action.INVOICE_DOCUMENT_GENERATED: "Invoice PDF drawn",
    Action.INVOICE_SENT: "Invoice e-mailed to the billing contact",
    Action.INVOICE_RELEASED: "First invoice released by Finance",
    Action.INVOICE_PAID: "Invoice paid",
    Action.INVOICE_REOPENED: "Invoice open again",
    Action.INVOICE_VOIDED: "Invoice voided",
    Action.INVOICE_FILE_TAMPERED: "Invoice PDF altered on disk: not served",
    Action.BILLING_GO_LIVE_SET: "Go-live date set: billing starts",
    Action.PAYMENT_RECORDED: "Payment entered by Finance",
    Action.PAYMENT_RECEIVED: "Payment received",
    Action.PAYMENT_ALLOCATED: "Payment applied to an invoice",
    Action.PAYMENT_HELD: "Payment held for Finance",
    Action.PAYMENT_REFUNDED: "Payment refunded",
    Action.BANK_MAPPING_SAVED: "Bank statement columns saved",
    Action.BANK_IMPORT_PREVIEWED: "Bank statement uploaded for preview",
    Action.BANK_IMPORT_COMMITTED: "Bank statement imported",
    Action.BANK_IMPORT_DISCARDED: "Bank statement discarded",
    Action.AR_ITEM_OPENED: "Receivable needs Finance",
    Action.AR_ITEM_CHASED: "Customer reminded to pay",
    Action.AR_ITEM_WRITE_OFF_REQUESTED: "Write-off awaiting a second approver",
    Action.AR_ITEM_WRITE_OFF_REJECTED: "Write-off refused",
    Action.AR_ITEM_WRITE_OFF_APPROVED: "Write-off approved by a second Finance user",
    Action.AR_ITEM_RESOLVED: "Receivable resolved",
    Action.CREDIT_NOTE_ISSUED: "Credit note issued",
    Action.CREDIT_NOTE_DOCUMENT_GENERATED: "Credit note PDF drawn",
    Action.CREDIT_NOTE_SENT: "Credit note e-mailed to the billing contact",
    Action.CREDIT_NOTE_FILE_TAMPERED: "Credit note PDF altered on disk: not served",
    Action.REFUND_ISSUED: "Refund issued",
    Action.WRITE_OFF_TOLERANCE_SET: "Write-off tolerance set",
    Action.USER_GROUPS_CHANGED: "Roles changed",
    Action.USER_TWO_FACTOR_ENABLED: "Two-factor sign-in set up",
    Action.OUTBOX_MESSAGE_DEAD_LETTERED: "Pipeline step dead-lettered",
    Action.OUTBOX_MESSAGE_RETRIED: "Pipeline step retried",
    Action.AUDIT_EVIDENCE_EXPORTED: "Evidence pack exported for auditors",
    Action.INBOX_ASSIGNED: "Inbox item assigned",
    Action.INBOX_UNASSIGNED: "Inbox item handed back",
    Action.INBOX_DIGEST_OPTED_OUT: "Daily inbox digest turned off",
    Action.INBOX_DIGEST_OPTED_IN: "Daily inbox digest turned on",
}


def canonical_action(name: str) -> Action | None:
    """The enum member `name` stands for, whether it is a current or a legacy name."""
    if name in LEGACY:
        return LEGACY[name]
    try:
        return Action(name)
    except ValueError:
        return None


def action_names(action: Action) -> list[str]:
    """Every name `action` stands under in the log: its own and the legacy ones."""
    return [action.value, *(old for old, new in LEGACY.items() if new == action)]


def action_label(name: str) -> str:
    """`deal.approve` and `deal.approved` alike → "Deal approved"."""
    action = canonical_action(name)
    if action is None:
        return name
    if action in _LABELS:
        return _LABELS[action]
    model, verb = action.value.split(".", 1)
    return f"{model.replace('_', ' ').capitalize()} {verb.replace('_', ' ')}"

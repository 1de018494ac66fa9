"""Every kind of work the inbox gathers, one source each. A new kind is one module with a
`Source` subclass, named here."""

from inbox.sources.base import ADMIN, Described, Source
from inbox.sources.billing import ARItems, BillingExceptions
from inbox.sources.crm import CrmDriftSource, CrmQuarantine
from inbox.sources.dead_letters import DeadEvents, DeadSteps
from inbox.sources.deal_states import ChangesRequested, ManualReview
from inbox.sources.signatures import Signatures

# In the order the inbox lists the kinds (its filter and its counts).
SOURCES: dict[str, Source] = {
    source.kind: source
    for source in (
        ManualReview(),
        ChangesRequested(),
        Signatures(),
        CrmQuarantine(),
        CrmDriftSource(),
        BillingExceptions(),
        ARItems(),
        DeadSteps(),
        DeadEvents(),
    )
}

__all__ = ["ADMIN", "SOURCES", "Described", "Source"]

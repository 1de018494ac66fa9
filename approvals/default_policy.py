"""The approval matrix Dealdesk ships with; a data migration seeds it and Finance edits it.

Step 1 reviews run in parallel (Deal Desk, Legal, Finance); the executive tiers follow, VP
Sales (Executive) before the CFO (its own group), so a top-tier approver sees a deal the others
have already passed, and no one person holds both tiers' authority by default.
Thresholds are in the policy currency (USD) and are "above": a 10 % discount needs nobody.
"""

from decimal import Decimal

from approvals.policy import Rule

DEAL_DESK, LEGAL, FINANCE, EXECUTIVE, CFO = "Deal Desk", "Legal", "Finance", "Executive", "CFO"

DEFAULT_RULES = [
    Rule("Deal Desk: discount above 10 %", 1, DEAL_DESK, discount_pct_above=Decimal(10)),
    Rule("Legal: banned clause", 1, LEGAL, any_banned_clause=True),
    Rule("Legal: unclassified term", 1, LEGAL, clause_types=frozenset({"other"})),
    Rule("Legal: non-standard clause", 1, LEGAL, any_review_clause=True),
    Rule("Finance: payment terms beyond net 60", 1, FINANCE, payment_net_days_above=60),
    Rule("Finance: free period", 1, FINANCE, clause_types=frozenset({"free_period"})),
    Rule("Finance: term above 36 months", 1, FINANCE, term_months_above=36),
    Rule("VP Sales: discount above 20 %", 2, EXECUTIVE, discount_pct_above=Decimal(20)),
    Rule("CFO: discount above 35 %", 3, CFO, discount_pct_above=Decimal(35)),
    Rule("CFO: TCV above 500,000 USD", 3, CFO, tcv_above=Decimal(500_000)),
    Rule("CFO: price below floor", 3, CFO, below_floor=True),
]

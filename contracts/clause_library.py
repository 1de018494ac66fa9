"""The standard clause library seeded into ClauseType (legal edits it in the admin after).

(code, title, wording, banned, needs legal review, approval group, patterns requiring it,
default params). Wording is a Django template over the clause's params.
"""

from dealdesk.patterns import CUSTOM_TERMS, ENTERPRISE_MSA

CLAUSE_LIBRARY = [
    (
        "payment_terms",
        "Payment terms",
        "Customer shall pay each undisputed invoice within {{ net_days }} days of the invoice date.",
        False,
        False,
        "",
        [],
        {},
    ),
    (
        "billing_frequency",
        "Billing frequency",
        "Fees are invoiced {% if interval == 'upfront' %}in full in advance for the whole "
        "Subscription Term{% elif interval == 'semiannual' %}semi-annually in advance"
        "{% else %}{{ interval }} in advance{% endif %}.",
        False,
        False,
        "",
        [],
        {},
    ),
    (
        "billing_start",
        "Billing start",
        "{% if mode == 'on_signature' %}Billing starts on the date this Order Form is signed."
        "{% elif mode == 'fixed_date' %}Billing starts on {{ date }}."
        "{% elif mode == 'days_after_signature' %}Billing starts {{ days }} days after this "
        "Order Form is signed.{% else %}Billing starts on the date the Service goes live in "
        "production.{% endif %}",
        False,
        True,
        "Finance",
        [],
        {},
    ),
    (
        "free_period",
        "Free period",
        "The first {{ months }} month{{ months|pluralize }} of the Subscription Term are "
        "provided free of charge.",
        False,
        True,
        "Finance",
        [],
        {},
    ),
    (
        "price_uplift",
        "Price uplift",
        "Fees increase by {{ pct }}% every {{ every_months }} months of the Subscription Term.",
        False,
        False,
        "",
        [],
        {},
    ),
    (
        "renewal_price_cap",
        "Renewal price cap",
        "On renewal, Fees will not increase by more than {{ max_increase_pct }}% over the Fees "
        "of the preceding term.",
        False,
        True,
        "Finance",
        [],
        {},
    ),
    (
        "price_lock",
        "Price lock",
        "Fees are fixed for the first {{ months }} months from the start of the Subscription Term.",
        False,
        True,
        "Finance",
        [],
        {},
    ),
    (
        "auto_renewal",
        "Renewal",
        "{% if enabled %}This Order Form renews automatically for successive terms of equal "
        "length unless either party gives notice of non-renewal{% if notice_days %} at least "
        "{{ notice_days }} days before the end of the then-current term{% endif %}."
        "{% else %}This Order Form does not renew automatically; a renewal requires a new Order "
        "Form signed by both parties.{% endif %}",
        False,
        False,
        "",
        [],
        {},
    ),
    (
        "termination_for_convenience",
        "Termination for convenience",
        "Customer may terminate this Order Form for convenience on {{ notice_days }} days' "
        "written notice; Fees paid for the remainder of the term are not refunded.",
        False,
        True,
        "Legal",
        [],
        {},
    ),
    (
        "sla_credit",
        "Service level",
        "Provider will make the Service available {{ uptime_pct }}% of each calendar month. For "
        "each month below that level Customer receives a service credit of {{ credit_pct }}% "
        "of that month's Fees.",
        False,
        True,
        "Legal",
        [],
        {},
    ),
    (
        "liability_cap",
        "Limitation of liability",
        "Each party's total liability arising out of this Order Form is limited to "
        "{{ multiple_of_fees }} times the Fees paid or payable in the twelve months before "
        "the claim.",
        False,
        True,
        "Legal",
        [ENTERPRISE_MSA, CUSTOM_TERMS],
        {"multiple_of_fees": "1"},
    ),
    (
        "purchase_order_required",
        "Purchase orders",
        "Customer will issue a purchase order{% if po_number %} (number {{ po_number }}){% endif %} "
        "and Provider will quote it on every invoice. The lack of a purchase order does not "
        "relieve Customer of its obligation to pay.",
        False,
        False,
        "",
        [],
        {},
    ),
    (
        "payment_method",
        "Payment method",
        "Customer will pay by {% if method == 'ach' %}ACH transfer{% elif method == 'wire' %}"
        "wire transfer{% elif method == 'card' %}credit card{% else %}check{% endif %}.",
        False,
        False,
        "",
        [],
        {},
    ),
    (
        "data_residency",
        "Data residency",
        "Provider will store Customer Data at rest only in data centres located in {{ region }}.",
        False,
        True,
        "Legal",
        [],
        {},
    ),
    (
        "governing_law",
        "Governing law",
        "This Order Form is governed by the laws of {{ jurisdiction }}, without regard to its "
        "conflict-of-laws rules.",
        False,
        True,
        "Legal",
        [],
        {},
    ),
    (
        "pilot_opt_out",
        "Pilot opt-out",
        "Customer may end this Order Form without charge by written notice within the first "
        "{{ days }} days of the Subscription Term.",
        False,
        True,
        "Finance",
        [],
        {},
    ),
    (
        "most_favored_nation",
        "Most favoured customer pricing",
        "Provider will offer Customer prices no less favourable than those it offers any "
        "comparable customer.",
        True,
        True,
        "Executive",
        [],
        {},
    ),
    (
        "unlimited_liability",
        "Unlimited liability",
        "Liability arising out of this Order Form is not limited.",
        True,
        True,
        "Executive",
        [],
        {},
    ),
    (
        "exclusivity",
        "Exclusivity",
        "Provider will not supply the Service to Customer's competitors.",
        True,
        True,
        "Executive",
        [],
        {},
    ),
    (
        "other",
        "Special term",
        "{{ summary }}",
        False,
        True,
        "Legal",
        [],
        {},
    ),
]

"""The billable gate compares the CRM amount with the figures it may mean and says which."""

from decimal import Decimal

from approvals.gates import BillableFacts, BillableLine, billable

LINE = BillableLine("line 1 (PLAT)", True, True, True, "USD", 1)


def _billable(crm: str, *, priced="3825.00", tcv: str | None = "38250.00", free_months=2):
    return billable(
        BillableFacts(
            currency="USD",
            term_months=12,
            lines=[LINE],
            priced_amount=Decimal(priced),
            crm_amount=Decimal(crm),
            tcv=None if tcv is None else Decimal(tcv),
            free_months=free_months,
        )
    )


def test_a_crm_amount_of_the_lines_totalprice_passes_and_says_so():
    result = _billable("3825.00")
    assert result.passed
    assert result.reasons == (
        "1 line on active catalog products; CRM amount 3,825.00 USD matches the lines' "
        "total, Salesforce's sum of TotalPrice",
    )


def test_a_crm_amount_of_the_tcv_net_of_the_free_period_passes_and_says_so():
    result = _billable("38250.00")
    assert result.passed
    assert result.reasons == (
        "1 line on active catalog products; CRM amount 38,250.00 USD matches the TCV the "
        "contract bills, net of 2 free months",
    )


def test_the_full_year_before_the_free_period_is_neither_figure():
    result = _billable("45900.00")
    assert not result.passed
    assert result.reasons == (
        "priced amount 3,825.00 USD differs from the CRM amount 45,900.00 by -42,075.00 (the "
        "priced amount is the lines' total, Salesforce's sum of TotalPrice), and so does the "
        "TCV the contract bills, net of 2 free months (38,250.00)",
    )


def test_without_the_tcv_only_the_lines_totalprice_is_compared():
    assert not _billable("38250.00", tcv=None).passed
    assert _billable("38250.00", tcv=None, priced="38250.00").passed


def test_a_deal_without_a_free_period_names_the_plain_tcv():
    result = _billable("45900.00", tcv="45900.00", free_months=0)
    assert result.reasons[0].endswith("matches the TCV the contract bills")

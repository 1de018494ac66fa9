"""CRM records as Salesforce's REST API returns them, for the fake server and bundles."""

from datetime import UTC, datetime, timedelta

from django.apps import apps

BASE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def stamp(minutes: int = 0) -> str:
    return (BASE + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def account(crm_id: str, name: str, *, currency: str = "USD", at: int = 0, **extra) -> dict:
    return {
        "Id": crm_id,
        "Name": name,
        "BillingStreet": "1 Main St",
        "BillingCity": "Springfield",
        "BillingState": "IL",
        "BillingPostalCode": "62701",
        "BillingCountry": "United States",
        "CurrencyIsoCode": currency,
        "IsDeleted": False,
        "SystemModstamp": stamp(at),
        **extra,
    }


def product(crm_id: str, sku: str, name: str, *, active: bool = True, at: int = 0) -> dict:
    return {
        "Id": crm_id,
        "ProductCode": sku,
        "Name": name,
        "IsActive": active,
        "IsDeleted": False,
        "SystemModstamp": stamp(at),
    }


def opportunity(crm_id: str, account_id: str, *, won: bool = True, at: int = 0, **extra) -> dict:
    return {
        "Id": crm_id,
        "Name": f"Opportunity {crm_id}",
        "AccountId": account_id,
        "OwnerId": "005000000000001",
        "StageName": "Closed Won" if won else "Closed Lost",
        "IsWon": won,
        "CloseDate": "2026-10-30",
        "Amount": 12000.0,
        "Description": "Standard paper. Net 30.",
        "Contract_Start_Date__c": "2026-12-01",
        "Contract_Term_Months__c": 12,
        "Billing_Frequency__c": "Annual",
        "Payment_Terms__c": "Net 30",
        "CurrencyIsoCode": "USD",
        "IsDeleted": False,
        "SystemModstamp": stamp(at),
        **extra,
    }


def line(
    crm_id: str, opportunity_id: str, sku: str, *, quantity=1, price=12000.0, at: int = 0, **extra
) -> dict:
    return {
        "Id": crm_id,
        "OpportunityId": opportunity_id,
        "Product2Id": "01t" + sku,
        "ProductCode": sku,
        "Quantity": quantity,
        "UnitPrice": price,
        "ListPrice": price,
        "Discount": None,
        "TotalPrice": None if price is None or quantity is None else quantity * price,
        "ServiceDate": None,
        "Segment_Index__c": 1,
        "CurrencyIsoCode": "USD",
        "IsDeleted": False,
        "SystemModstamp": stamp(at),
        **extra,
    }


def contact_role(
    crm_id: str, opportunity_id: str, contact_id: str, name: str, *, at: int = 0, **extra
) -> dict:
    return {
        "Id": crm_id,
        "OpportunityId": opportunity_id,
        "ContactId": contact_id,
        "Role": "Signer",
        "IsPrimary": True,
        "Contact": {
            "attributes": {"type": "Contact"},
            "Name": name,
            "Email": f"{contact_id.lower()}@example.com",
        },
        "IsDeleted": False,
        "SystemModstamp": stamp(at),
        **extra,
    }


def small_org() -> dict[str, list[dict]]:
    """Two accounts, three products, two won deals (one with two lines), one lost."""
    return {
        "Account": [account("001000000000001", "Acme"), account("001000000000002", "Beta")],
        "Product2": [
            product("01t000000000001", "PLAT", "Platform"),
            product("01t000000000002", "SEAT", "Seat"),
            product("01t000000000003", "OLD", "Retired product", active=False),
        ],
        "Opportunity": [
            opportunity("006000000000001", "001000000000001"),
            opportunity("006000000000002", "001000000000002", Amount=15600.0),
            opportunity("006000000000003", "001000000000001", won=False),
        ],
        "OpportunityLineItem": [
            line("00k000000000001", "006000000000001", "PLAT"),
            line("00k000000000002", "006000000000002", "PLAT"),
            line("00k000000000003", "006000000000002", "SEAT", quantity=10, price=30.0),
            line("00k000000000004", "006000000000003", "PLAT"),
        ],
        "OpportunityContactRole": [
            contact_role("00K000000000001", "006000000000001", "003000000000001", "Ada Signer")
        ],
    }


def row_counts() -> dict[str, int]:
    """Rows in every table (history and audit included) but the sync's own run log and its
    vendor call log."""
    skip = {"dealdesk.SyncRun", "dealdesk.HistoricalSyncRun", "integrations.IntegrationCall"}
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.managed and m._meta.label not in skip  # unmanaged: no table of ours
    }

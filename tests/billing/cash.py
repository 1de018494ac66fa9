"""Helpers for the cash tests: more issued invoices beside the pipeline's first one (copies
numbered after it, cheap), and a statement CSV in a bank's own columns."""

from datetime import date, timedelta
from decimal import Decimal

from billing.models import Invoice

STATEMENT_HEADER = "Booking date;Value date;Amount;Currency;Payer;IBAN;Description;Transaction ID"


def issued_copy(invoice: Invoice, *, serial: int, total: Decimal | None = None,
                days_later: int = 0) -> Invoice:  # fmt: skip
    """Another issued invoice of the same deal (plan index 100 + serial), numbered
    DD-<year>-<serial>."""
    copy = Invoice.objects.get(pk=invoice.pk)
    copy.pk = None
    copy.plan_index = 100 + serial
    copy.number = f"{invoice.legal_entity}-{invoice.issue_on.year}-{serial:06d}"
    copy.issue_on = invoice.issue_on + timedelta(days=days_later)
    copy.total = total or invoice.total
    copy.pdf = ""
    copy.save()
    return copy


def statement_csv(*rows: tuple) -> bytes:
    """rows: (amount, currency, payer, description, transaction id[, booking date])."""
    lines = [STATEMENT_HEADER]
    for amount, currency, payer, description, reference, *day in rows:
        booked = (day[0] if day else date(2026, 3, 2)).strftime("%d.%m.%Y")
        payer, description = (text.replace('"', '""') for text in (payer, description))
        lines.append(
            f'{booked};{booked};{amount};{currency};"{payer}";DE02120300000000202051;'
            f'"{description}";{reference}'
        )
    return ("\n".join(lines) + "\n").encode()


def camt053(*entries: tuple, account: str = "DE89370400440532013000") -> bytes:
    """entries: (amount, "CRDT"|"DBIT", currency, payer, remittance, bank ref[, reversal])."""
    ntries = []
    for amount, direction, currency, payer, remittance, reference, *reversal in entries:
        ntries.append(
            f"""<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd>
            {"<RvslInd>true</RvslInd>" if reversal and reversal[0] else ""}
            <Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt>
            <ValDt><Dt>2026-03-02</Dt></ValDt><AcctSvcrRef>{reference}</AcctSvcrRef>
            <NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>
            <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-02T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><CreDtTm>2026-03-02T06:00:00</CreDtTm>
<Acct><Id><IBAN>{account}</IBAN></Id></Acct>{"".join(ntries)}</Stmt>
</BkToCstmrStmt></Document>""".encode()

"""DocuSign Connect webhook: 1,000 events acknowledged, processing deferred.

`--db sqlite|postgres`. 1,000 distinct Connect events (JSON SIM, as DocuSign POSTs them),
each signed with HMAC-SHA256 like DocuSign does, are POSTed one after another to
/contracts/esign/docusign/webhook/ through Django's test client, in process: the whole
server side (middleware, the HMAC checked against two configured keys, as during a key
rotation, the event stored in the webhook inbox, the 200). Handling is deferred: the relay
publishes to Celery's in-memory broker, where no worker takes it.
"""

import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_outbox import use_broker
from bench.harness import django_database, median, parse_db_arg, percentile, report

EVENTS = 1_000
WARMUP = 20  # the process's first requests load the URL conf, middleware, templates
RATE_TARGET = 300.0
URL = "/contracts/esign/docusign/webhook/"
OLD_KEY, NEW_KEY = "bench-connect-key-old", "bench-connect-key-new"


def connect_events() -> list[tuple[bytes, dict[str, str]]]:
    """Bodies and headers as DocuSign sends them, signed with the key being rotated in."""
    from contracts.esign.docusign.connect import SIGNATURE_HEADER, connect_signature

    events = []
    generated = datetime.now(UTC).isoformat()
    for n in range(WARMUP + EVENTS):
        envelope_id = str(uuid.UUID(int=n))
        body = json.dumps(
            {
                "event": "recipient-completed" if n % 2 else "envelope-completed",
                "apiVersion": "v2.1",
                "uri": f"/restapi/v2.1/accounts/bench/envelopes/{envelope_id}",
                "retryCount": 0,
                "configurationId": 10001,
                "generatedDateTime": generated,
                "data": {
                    "accountId": "bench",
                    "envelopeId": envelope_id,
                    "recipientId": "1",
                    "envelopeSummary": {"status": "completed", "envelopeId": envelope_id},
                },
            }
        ).encode()
        header = "HTTP_" + SIGNATURE_HEADER.format(1).upper().replace("-", "_")
        events.append((body, {header: connect_signature(body, NEW_KEY)}))
    return events


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    os.environ["DOCUSIGN_CONNECT_HMAC_KEYS"] = f"{OLD_KEY},{NEW_KEY}"
    with django_database(db):
        from django.test import Client

        from dealdesk.integrations.models import WebhookEvent

        use_broker("memory://localhost/")  # deferred: published, not run
        events = connect_events()
        client = Client()
        for body, headers in events[:WARMUP]:
            client.post(URL, body, content_type="application/json", **headers)
        samples = []
        start = time.perf_counter()
        for body, headers in events[WARMUP:]:
            began = time.perf_counter()
            answer = client.post(URL, body, content_type="application/json", **headers)
            samples.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, (answer.status_code, answer.content)
        elapsed = time.perf_counter() - start

        stored = WebhookEvent.objects.filter(vendor="docusign", processed_at__isnull=True)
        assert stored.count() == WARMUP + EVENTS, f"{stored.count()} events stored unprocessed"
        report(
            f"DocuSign Connect, {EVENTS:,} events acknowledged",
            EVENTS / elapsed,
            "events/s",
            f"≥ {RATE_TARGET:.0f}/s",
        )
        report("DocuSign Connect, per event, median", median(samples), "ms")
        report("DocuSign Connect, per event, p95", percentile(samples, 95), "ms")


if __name__ == "__main__":
    main()

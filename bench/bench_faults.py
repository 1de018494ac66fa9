"""Faults (issue 16, "Under load and faults"): a worker SIGKILLed mid-run, Redis stopped.

`--db postgres` only (a throwaway cluster of its own from `.ci/pg`, on a free port and in a
temp dir; fsync off as .ci/pg sets it), a throwaway redis-server, real `celery -A dealdesk
worker` and gunicorn (the Procfile's commands) subprocesses:
1. 1,000 harmless steps (bench/faults_steps.py, one IntegrationCall row each) go through the
   real outbox; the worker's process group is SIGKILLed once about a third are done, a new
   worker starts, and the outbox sweep (run here every few seconds, as beat would) re-sends
   what the dead worker held. Counted: effect rows, duplicates, dead letters, drain time.
2. Redis is stopped for `--outage` seconds (default 60): signed Stripe webhook events POSTed
   to gunicorn meanwhile must all be answered 2xx and stored; /healthz's JSON is printed
   once; once Redis is back, the time until every stored event is processed.
3. PostgreSQL is restarted (`pg_ctl restart`) under the same gunicorn: /healthz polled
   throughout, the first failing and the first answering again after it (no restart of ours).
For the bench the lease, relay grace and Redis visibility timeout are shortened (LEASE_ENV)
so redelivery happens in seconds rather than the production quarter of an hour.
Run: `.venv/bin/python bench/bench_faults.py --db postgres [--outage 60]`.
"""

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, median, percentile, print_durability, report

STEPS = 1_000
WEBHOOKS = 100
SWEEP_EVERY = 3.0  # seconds between outbox/webhook sweeps (beat: every minute)
DRAIN_TIMEOUT = 300.0
STRIPE_SECRET = "whsec_bench_faults"  # noqa: S105 - a throwaway signing key
# Redelivery within seconds: the claim lease of a dead worker's row, the grace before the
# sweep re-sends a relayed row, and the time Redis waits before handing an unacked message out.
LEASE_ENV = {
    "INTEGRATIONS_RUNNING_LEASE_SECONDS": "10",
    "OUTBOX_RELAY_GRACE_SECONDS": "10",
    "CELERY_VISIBILITY_TIMEOUT": "20",
}
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, ready, timeout: float = 60.0, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(every)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_postgres(stack: ExitStack, tmp: Path) -> str:
    """A cluster of our own (never the shared one): .ci/pg on a free port in a temp dir."""
    pg_dir = tmp / "pg"
    env = {**os.environ, "DD_PG_PORT": str(free_port()), "DD_PG_DIR": str(pg_dir)}
    pg = str(ROOT / ".ci" / "pg")
    stack.callback(subprocess.run, [pg, "stop"], env=env, check=False)
    url = subprocess.run(  # noqa: S603
        [pg, "start"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    return url


class Redis:
    """A redis-server on a fixed port, so it can be stopped and started again there."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.dir, self.proc = free_port(), tmp / "redis", None
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                *(shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.dir)),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C reaches the bench only, which stops it
        )
        wait_for("redis", lambda: port_open(self.port))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def app_env(db_url: str, broker_url: str, tmp: Path) -> dict[str, str]:
    """Production settings with throwaway keys, for this process and its children."""
    return {
        **os.environ,
        **LEASE_ENV,
        "DJANGO_SETTINGS_MODULE": "dealdesk.settings",
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker_url,
        "CACHE_URL": broker_url.rsplit("/", 1)[0] + "/1",  # as bin/up: the broker's next db
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-not-for-any-deployment",
        "AUDIT_CHAIN_KEY": "bench-only-audit-chain-key-not-for-deployments",
        "LOG_FORMAT": "plain",
        "SECURE_SSL_REDIRECT": "false",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "DEALDESK_VAR_DIR": str(tmp),
        "PYTHONPATH": str(ROOT),
    }


class Children:
    """Subprocesses each in its own session, so a kill reaches the whole process group."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp, self.procs = env, tmp, []

    def start(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((proc, log))
        return proc

    def worker(self) -> subprocess.Popen:
        argv = [str(VENV_BIN / "celery"), "-A", "dealdesk", "worker", "--loglevel", "WARNING"]
        return self.start("worker", [*argv, "--concurrency", "1", "--without-gossip"])

    def web(self, port: int, workers: str = "2") -> subprocess.Popen:
        """gunicorn with `workers` processes ("": gunicorn_config's default)."""
        argv = [str(VENV_BIN / "gunicorn"), "dealdesk.wsgi"]
        argv += ["--config", "python:dealdesk.ops.gunicorn_config"]
        count = {"WEB_CONCURRENCY": workers} if workers else {}
        return self.start("web", argv, WEB_BIND=f"127.0.0.1:{port}", **count)

    @staticmethod
    def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(30)

    def stop_all(self) -> None:
        for proc, log in self.procs:
            try:
                self.kill(proc, signal.SIGTERM)
            except subprocess.TimeoutExpired:
                self.kill(proc)
            except ProcessLookupError:
                pass
            log.close()


def sweep() -> None:
    """What beat's `integrations.sweep` does every minute, here every few seconds."""
    from dealdesk.integrations.outbox import outbox_sweep
    from dealdesk.integrations.webhooks import webhook_sweep

    outbox_sweep()
    webhook_sweep()


def until_drained(is_drained, what: str) -> float:
    """Sweep until is_drained(); seconds it took."""
    start = time.monotonic()
    while not is_drained():
        if time.monotonic() - start > DRAIN_TIMEOUT:
            raise SystemExit(f"{what}: not drained after {DRAIN_TIMEOUT:.0f} s")
        sweep()
        time.sleep(SWEEP_EVERY)
    return time.monotonic() - start


def killed_worker(children: Children) -> None:
    from django.db import transaction
    from django.db.models import Count

    from bench.faults_steps import OPERATION, VENDOR
    from dealdesk.integrations.models import DeliveryStatus, IntegrationCall, OutboxMessage
    from dealdesk.integrations.outbox import outbox_enqueue_many

    effects = IntegrationCall.objects.filter(vendor=VENDOR, operation=OPERATION)
    with transaction.atomic():  # relayed to Redis once this commits
        outbox_enqueue_many(
            task="bench.faults_steps.record_step", items=[((n,), None) for n in range(STEPS)]
        )
    start = time.monotonic()
    worker = children.worker()
    wait_for("a third of the steps", lambda: effects.count() >= STEPS // 3, 120, 0.05)
    children.kill(worker)  # the whole process group: main process and its pool child
    at_kill = effects.count()
    running = OutboxMessage.objects.filter(status=DeliveryStatus.RUNNING).count()
    print(f"worker SIGKILLed with {at_kill} steps done, {running} claimed (running)")
    children.worker()
    open_ = [DeliveryStatus.PENDING, DeliveryStatus.RUNNING]
    drain = until_drained(
        lambda: not OutboxMessage.objects.filter(status__in=open_).exists(), "outbox"
    )
    total = time.monotonic() - start
    duplicates = effects.values("idempotency_key").annotate(n=Count("pk")).filter(n__gt=1).count()
    messages = OutboxMessage.objects.all()
    report("steps enqueued", STEPS, "steps")
    report("effect rows (one per step)", effects.count(), "rows", str(STEPS))
    report(
        "distinct steps with an effect",
        effects.values("idempotency_key").distinct().count(),
        "steps",
        str(STEPS),
    )
    report("steps with a duplicate effect", duplicates, "steps", "0")
    report(
        "outbox messages done",
        messages.filter(status=DeliveryStatus.DONE).count(),
        "msgs",
        str(STEPS),
    )
    report(
        "outbox messages dead-lettered",
        messages.filter(status=DeliveryStatus.DEAD).count(),
        "msgs",
        "0",
    )
    report("outbox messages run more than once", messages.filter(attempts__gt=1).count(), "msgs")
    report("drain after the kill (new worker + sweeps)", drain, "s")
    report("whole run, 1,000 steps with a kill", total, "s")
    assert effects.count() == STEPS, "a step left no effect"
    assert duplicates == 0, "a step took effect twice"


def stripe_delivery(number: int) -> tuple[bytes, dict[str, str]]:
    """An event Stripe would send (one we store and ignore), signed as Stripe signs it."""
    body = json.dumps(
        {
            "id": f"evt_faults_{number}",
            "object": "event",
            "type": "customer.updated",
            "created": int(time.time()),
            "data": {"object": {"id": "cus_faults", "object": "customer"}},
        }
    ).encode()
    stamp = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return body, {"Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}"}


def http(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read()


def redis_outage(base: str, redis: Redis, outage: float) -> None:
    from dealdesk.integrations.models import DeliveryStatus, WebhookEvent

    events = WebhookEvent.objects.filter(vendor="stripe", event_id__startswith="evt_faults_")
    redis.stop()
    down_at = time.monotonic()
    statuses, samples = [], []
    for number in range(WEBHOOKS):
        began = time.perf_counter()
        statuses.append(http(f"{base}/webhooks/stripe/", *stripe_delivery(number))[0])
        samples.append((time.perf_counter() - began) * 1000)
    acked = sum(200 <= status < 300 for status in statuses)
    status, health = http(f"{base}/healthz")
    print(f"/healthz with Redis down: HTTP {status}")
    print(json.dumps(json.loads(health), indent=1))
    report("webhooks POSTed while Redis is down", WEBHOOKS, "events")
    report("  answered 2xx", acked, "events", str(WEBHOOKS))
    report("  stored (WebhookEvent rows)", events.count(), "events", str(WEBHOOKS))
    report("  acknowledgement p50", median(samples), "ms")
    report("  acknowledgement p95", percentile(samples, 95), "ms")
    if acked != WEBHOOKS:
        print(f"refused: {sorted(set(statuses) - set(range(200, 300)))}")
    time.sleep(max(0.0, outage - (time.monotonic() - down_at)))
    redis.start()
    report("Redis down for", time.monotonic() - down_at, "s")
    drained = until_drained(
        lambda: events.filter(status=DeliveryStatus.DONE).count() >= events.count(), "webhooks"
    )
    report(
        "stored events processed after Redis returned",
        events.filter(status=DeliveryStatus.DONE).count(),
        "events",
        str(events.count()),
    )
    report("  time until all were processed", drained, "s")
    report("  dead-lettered", events.filter(status=DeliveryStatus.DEAD).count(), "events", "0")


def database_answers(base: str) -> bool:
    """/healthz's database check passed (its status is 503 here anyway: no beat runs)."""
    try:
        _, body = http(f"{base}/healthz")
        return json.loads(body)["checks"]["database"]["ok"] is True
    except (OSError, ValueError, KeyError):  # refused, reset, or no JSON: not answering
        return False


def postgres_restart(base: str, pg_data: Path) -> None:
    """gunicorn keeps its workers through `pg_ctl restart`: when requests start failing and
    when they succeed again (GET /healthz every 50 ms, its database check reads PostgreSQL)."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    ctl = f"{pg_bin[-1]}/pg_ctl -D {pg_data} -m fast -w restart"
    assert database_answers(base), "the app's database check fails before the restart"
    timeline: list[tuple[float, bool]] = []
    start = time.monotonic()
    restart = subprocess.Popen(["su", "postgres", "-c", ctl], stdout=subprocess.DEVNULL)  # noqa: S603, S607
    # Poll until pg_ctl is done and the app answers again after having failed at least once.
    while restart.poll() is None or all(ok for _, ok in timeline) or not timeline[-1][1]:
        timeline.append((time.monotonic() - start, database_answers(base)))
        if time.monotonic() - start > 60:
            fails = sum(not ok for _, ok in timeline)
            print(f"pg_ctl exited {restart.poll()}; {fails} failing requests, none answered since")
            raise SystemExit("the app did not answer again within 60 s of the restart")
        time.sleep(0.05)
    failing = [at for at, ok in timeline if not ok]
    print(f"pg_ctl restart exited {restart.returncode}")
    report("first failing request after the restart began", failing[0], "s")
    report("first succeeding request again", timeline[-1][0], "s")
    report("failing requests meanwhile (one per 50 ms)", len(failing), "requests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres"], default="postgres")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds Redis is down")
    args = parser.parse_args()
    # Cleanup runs on Ctrl-C and on a plain kill too (SIGINT may come in ignored when the
    # bench was started in the background).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (Debian's redis-server package)")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dd-faults-")))
        os.chmod(tmp, 0o755)  # noqa: S103 - .ci/pg's server runs as "postgres" under it
        db_url = start_postgres(stack, tmp)
        redis = Redis(tmp)
        stack.callback(redis.stop)
        redis.start()
        env = app_env(db_url, redis.url, tmp)
        os.environ.update(env)
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", verbosity=0)
        print_durability()
        print("shortened for the bench:", ", ".join(f"{k}={v}" for k, v in LEASE_ENV.items()))
        children = Children(env, tmp)
        stack.callback(children.stop_all)
        print("\n-- a worker SIGKILLed a third into 1,000 outbox steps")
        killed_worker(children)
        port = free_port()
        children.web(port)
        wait_for("gunicorn", lambda: port_open(port), 60)
        base = f"http://127.0.0.1:{port}"
        print(f"\n-- Redis stopped for {args.outage:.0f} s")
        redis_outage(base, redis, args.outage)
        print("\n-- PostgreSQL restarted (pg_ctl restart) under a running gunicorn")
        connection.close()  # ours would break with the restart; the bench needs it no more
        postgres_restart(base, tmp / "pg" / "data")


if __name__ == "__main__":
    main()

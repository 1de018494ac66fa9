"""Load (issue 16, "Under load and faults"): 50 people across the roles for 5 minutes on
gunicorn + PostgreSQL while the CRM sync imports 5,000 deals and 1,000 Stripe webhooks arrive.

PostgreSQL only: a throwaway cluster of its own (bench_faults.start_postgres, .ci/pg's
settings, printed), a throwaway redis-server, and the Procfile's processes as subprocesses:
gunicorn (dealdesk/ops/gunicorn_config.py), a Celery worker and beat, on production settings
with REQUIRE_2FA on. The book: bench/load_book.py (seed_demo's deals in every state plus
`--book` imported ones). Then, at once:
- locust (`locust --headless`, bench/load_users.py) runs `--users` people, spawned ~10 a
  second, for `--duration` seconds: each logs in through the real form (approvers give a TOTP
  code) and opens their role's daily pages; anything but 200 logged-in at that URL is an error;
- `manage.py sync_crm --full` imports a `--sync-deals` bundle (CRM_BACKEND=file) in its own
  process; each new deal's classify-and-price step runs on the worker;
- `--webhooks` signed Stripe events are POSTed to /billing/webhooks/stripe/, evenly over the
  duration, and handled by the worker.
Printed: per page count, p50, p95 and max; overall p95; errors; requests per second; the sync's
wall time and deals imported; webhooks acknowledged and processed; how long the worker took to
drain afterwards; the machine. `--no-background` runs the same load without the sync and the
webhooks, to show what they cost.
Run: `.venv/bin/python bench/bench_load.py [--duration 300] [--users 50] [--no-background]`.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_faults import (
    LEASE_ENV,
    VENV_BIN,
    Children,
    Redis,
    app_env,
    database_answers,
    free_port,
    http,
    port_open,
    start_postgres,
    stripe_delivery,
    wait_for,
)
from bench.harness import ROOT, median, percentile, report
from bench.load_book import EXCEPTION, write_load_bundle, write_people

P95_TARGET_MS = 300.0
RAMP_UP_S = 30  # seconds: the spawn and its logins, reported apart as well
# The Procfile's worker line runs it at a lower CPU priority; the CRM sync, a beat task on that
# worker in production, is a process of its own here and runs at the same priority.
BACKGROUND = ["nice", "-n", "10"]
# Requests that are the login itself, not a page a person works on (reported apart), and
# load_users.py's errors that are no request at all.
NOT_PAGES = {"login form", "login", "two-factor code", EXCEPTION}
MANAGE = [str(VENV_BIN / "python"), str(ROOT / "manage.py")]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # What bench/run.py passes; the cluster is the bench's own whatever it says.
    parser.add_argument("--db", choices=["postgres"], default="postgres")
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--users", type=int, default=50, help="simulated people")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="people started a second")
    parser.add_argument("--book", type=int, default=200, help="imported deals before the load")
    parser.add_argument("--sync-deals", type=int, default=5_000, help="deals the sync imports")
    parser.add_argument("--webhooks", type=int, default=1_000, help="Stripe events POSTed")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds")
    parser.add_argument(
        "--web-workers",
        default="",
        help="gunicorn worker processes (WEB_CONCURRENCY; default: gunicorn_config's)",
    )
    parser.add_argument(
        "--worker-concurrency",
        default=os.environ.get("WORKER_CONCURRENCY") or str(max(1, (os.cpu_count() or 1) // 2)),
        help="Celery pool processes (WORKER_CONCURRENCY; default: bin/up's, half the CPUs, "
        "as web shares the machine)",
    )
    parser.add_argument(
        "--no-background", action="store_true", help="the load alone: no sync, no webhooks"
    )
    return parser.parse_args()


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot (/proc/stat's cpu line)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def machine() -> str:
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    return f"nproc {os.cpu_count()}, load average {load}"


def busiest_processes(count: int = 6) -> str:
    """What else the shared machine runs (ps's top CPU users), to read the figures by."""
    ps = subprocess.run(
        ["/usr/bin/ps", "-eo", "pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True
    )
    return "\n".join(line[:120] for line in ps.stdout.splitlines()[: count + 1])


def waited(proc: subprocess.Popen) -> float:
    """Wait for a child; its CPU seconds (user + system), from wait4."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def manage(
    env: dict[str, str], log: Path, *argv: str, background: bool = False
) -> tuple[float, float]:
    """Run `manage.py argv` to the end (at the worker's priority when `background`), output
    to log: (wall s, its CPU s)."""
    start = time.monotonic()
    command = [*(BACKGROUND if background else ()), *MANAGE, *argv]
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        cpu = waited(proc)
    if proc.returncode:
        raise SystemExit(f"manage.py {' '.join(argv)} failed:\n{log_tail(log)}")
    return time.monotonic() - start, cpu


def seed(env: dict[str, str], tmp: Path, book: int, sync_deals: int) -> None:
    """The book the people work on, and the bundle the sync imports under load."""
    from bench.pipeline_book import setup_company
    from dealdesk.models import Deal

    eager = {**env, "CELERY_BROKER_URL": ""}  # no broker: the pipeline runs inline, quicker
    wall, _ = manage(eager, tmp / "seed_demo.log", "seed_demo")
    print(f"seed_demo: {Deal.objects.count()} deals in {wall:.1f} s")
    company = setup_company()
    if book:
        write_load_bundle(tmp / "book.json", book, company, prefix="B")
        book_env = {**eager, "CRM_FILE": str(tmp / "book.json")}
        wall, _ = manage(book_env, tmp / "book.log", "sync_crm", "--full")
        print(f"book: {book} deals imported and priced in {wall:.1f} s")
    write_load_bundle(tmp / "sync.json", sync_deals, company, prefix="L")
    states = Counter(Deal.objects.values_list("state", flat=True))
    print(f"{sum(states.values())} deals:", ", ".join(f"{s} {n}" for s, n in states.most_common()))


class Webhooks(threading.Thread):
    """`count` signed Stripe events POSTed evenly over `duration` seconds."""

    def __init__(self, base: str, count: int, duration: float) -> None:
        super().__init__(daemon=True)
        self.url, self.count = f"{base}/billing/webhooks/stripe/", count
        self.every = duration / count if count else 0.0
        self.statuses: list[int] = []
        self.samples: list[float] = []

    def run(self) -> None:
        start = time.monotonic()
        for number in range(self.count):
            time.sleep(max(0.0, start + number * self.every - time.monotonic()))
            began = time.perf_counter()
            try:
                status = http(self.url, *stripe_delivery(number))[0]
            except OSError:  # no answer within http()'s 30 s: Stripe would count it failed
                status = 0
            self.statuses.append(status)
            self.samples.append((time.perf_counter() - began) * 1000)


class Sync(threading.Thread):
    """`manage.py sync_crm --full` on the load's bundle, in its own process, timed."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(daemon=True)
        self.env, self.log = env, log
        self.wall = self.cpu = float("nan")
        self.failed = ""

    def run(self) -> None:
        start = time.monotonic()
        try:
            self.wall, self.cpu = manage(self.env, self.log, "sync_crm", "--full", background=True)
        except SystemExit as exc:  # manage()'s way of saying it failed, with the log's tail
            self.wall, self.failed = time.monotonic() - start, str(exc)


def run_locust(args: argparse.Namespace, base: str, tmp: Path, people: Path) -> tuple[list, float]:
    """locust --headless for the duration: every request's (name, ms, error), and locust's
    own CPU seconds (it shares the machine with what it measures)."""
    samples = tmp / "samples.json"
    argv = [str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "load_users.py"), "--headless"]
    argv += ["--users", str(args.users), "--spawn-rate", str(args.spawn_rate)]
    argv += ["--run-time", f"{args.duration}s", "--host", base, "--only-summary"]
    argv += ["--loglevel", "WARNING", "--stop-timeout", "10"]
    env = {**os.environ, "LOAD_PEOPLE": str(people), "LOAD_SAMPLES": str(samples)}
    with open(tmp / "locust.log", "wb") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        cpu = waited(proc)
    if not samples.exists():
        tail = log_tail(tmp / "locust.log")
        raise SystemExit(f"locust exited {proc.returncode} without samples:\n{tail}")
    return json.loads(samples.read_text(encoding="utf-8")), cpu


def log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def drain(timeout: float) -> None:
    """Wait until the outbox and the stored Stripe events are all done (or `timeout`), and
    say how long it took and how fast the worker went meanwhile."""
    from dealdesk.integrations.models import DeliveryStatus, OutboxMessage, WebhookEvent

    open_ = [DeliveryStatus.PENDING, DeliveryStatus.RUNNING]
    done = OutboxMessage.objects.filter(status=DeliveryStatus.DONE)
    done_before, start = done.count(), time.monotonic()
    while True:
        left = (
            OutboxMessage.objects.filter(status__in=open_).count()
            + WebhookEvent.objects.filter(status__in=open_).count()
        )
        if not left or time.monotonic() - start > timeout:
            break
        time.sleep(1.0)
    took = time.monotonic() - start
    report("worker drained (outbox + webhooks) after the load", took, "s")
    report("  still open after that", left, "rows", "0")
    if took >= 1:
        rate = (done.count() - done_before) / took
        report("  outbox messages done meanwhile, a second", rate, "/s")


def print_pages(samples: list) -> None:
    by_page: dict[str, list[float]] = defaultdict(list)
    for name, ms, *_ in samples:
        by_page[name].append(ms)
    print(f"{'page':<34} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, times in sorted(by_page.items(), key=lambda item: -len(item[1])):
        print(
            f"{name:<34} {len(times):>7} {median(times):>8.0f} "
            f"{percentile(times, 95):>8.0f} {max(times):>8.0f}"
        )


def print_errors(samples: list, web_log: Path) -> int:
    errors = Counter(f"{name}: {error}" for name, _, error, _ in samples if error)
    report("errors (non-2xx/3xx or wrong page)", sum(errors.values()), "requests", "0")
    for error, count in errors.most_common(8):
        print(f"  {count:>5} × {error}")
    text = web_log.read_text(errors="replace") if web_log.exists() else ""
    traces = [m.start() for m in re.finditer(r"Traceback \(most recent call last\)", text)]
    timeouts = text.count("WORKER TIMEOUT")
    print(f"gunicorn log: {len(traces)} tracebacks, {timeouts} worker timeouts")
    if traces:
        print(text[max(0, traces[0] - 500) : traces[0] + 3000])
    return sum(errors.values())


def servers(stack: ExitStack, tmp: Path) -> dict[str, str]:
    """PostgreSQL and Redis of our own, Django set up on them (production settings): the
    environment for this process and its children."""
    db_url = start_postgres(stack, tmp)
    redis = Redis(tmp)
    stack.callback(redis.stop)
    redis.start()
    # Production's leases and timeouts (bench_faults shortens them to provoke redelivery).
    env = {k: v for k, v in app_env(db_url, redis.url, tmp).items() if k not in LEASE_ENV}
    env["REQUIRE_2FA"] = "true"
    # Plain http on the loopback, where the load balancer would end TLS: cookies marked
    # Secure would never come back from the client.
    env.update(SESSION_COOKIE_SECURE="false", CSRF_COOKIE_SECURE="false")
    os.environ.update(env)
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
            [["fsync", "synchronous_commit", "full_page_writes", "shared_buffers"]],
        )
        print("PostgreSQL:", ", ".join(f"{n}={s}" for n, s in cursor.fetchall()))
    return env


def processes(stack: ExitStack, env: dict[str, str], tmp: Path, args: argparse.Namespace) -> str:
    """The Procfile's web, worker and beat; the web's base URL once its workers answer."""
    web_workers = args.web_workers
    children = Children(env, tmp)
    stack.callback(children.stop_all)
    celery = [str(VENV_BIN / "celery"), "-A", "dealdesk"]
    worker = [*BACKGROUND, *celery, "worker", "--loglevel", "WARNING", "--without-gossip"]
    children.start("worker", worker, WORKER_CONCURRENCY=args.worker_concurrency)
    schedule = str(tmp / "celerybeat-schedule")
    children.start("beat", [*celery, "beat", "--loglevel", "WARNING", "--schedule", schedule])
    port = free_port()
    children.web(port, workers=web_workers)
    wait_for("gunicorn", lambda: port_open(port), 60)
    base = f"http://127.0.0.1:{port}"
    for _ in range(4):  # its workers load the app after the port opens: not in the figures
        wait_for("gunicorn's workers", lambda: database_answers(base), 60)
    from dealdesk.ops import gunicorn_config

    print(
        f"gunicorn: {web_workers or gunicorn_config.workers} sync workers "
        f"({'--web-workers' if web_workers else 'gunicorn_config default'}); Celery worker at "
        f"nice 10 (the Procfile's), concurrency {args.worker_concurrency} of {os.cpu_count()} "
        "CPUs; beat"
    )
    return base


def print_load(samples: list, duration: int, load_epoch: float, tmp: Path) -> tuple[float, int]:
    """The pages' figures: (overall page p95, errors)."""
    pages = [s for s in samples if s[0] not in NOT_PAGES]
    print_pages(samples)
    page_times = [ms for _, ms, *_ in pages]
    overall = percentile(page_times, 95)
    report("requests (pages, logins excluded)", len(pages), "requests")
    report("requests per second (pages)", len(pages) / duration, "req/s")
    report("overall page p50", median(page_times), "ms")
    report("overall page p95", overall, "ms", f"<= {P95_TARGET_MS:.0f}")
    timed = [ms for name, ms, *_ in samples if name != EXCEPTION]
    report("overall p95 with the logins", percentile(timed, 95), "ms")
    # The logins crowd the first seconds (a password hash each, on the same workers).
    settled = [ms for _, ms, _, at in pages if at - load_epoch > RAMP_UP_S]
    if settled:
        report(f"overall page p95 after the first {RAMP_UP_S} s", percentile(settled, 95), "ms")
    print_windows(pages, load_epoch, duration)
    errors = print_errors(samples, next(tmp.glob("web-*.log"), tmp / "none"))
    return overall, errors


def print_windows(pages: list, load_epoch: float, duration: int, width: int = RAMP_UP_S) -> None:
    """Page p95 and answers over a second per `width` seconds of the load (by when the answer
    came): whether the slow pages are spread out or a few moments of everything waiting."""
    windows: dict[int, list[float]] = defaultdict(list)
    for _, ms, _, at in pages:
        windows[min(int((at - load_epoch) // width), duration // width)].append(ms)
    print(f"page p95 per {width} s (pages, p95 ms, answers over 1 s):")
    for n, times in sorted(windows.items()):
        slow = sum(ms > 1000 for ms in times)
        print(
            f"  {n * width:4d}-{(n + 1) * width:<4d} s {len(times):6d} {percentile(times, 95):8.0f} {slow:6d}"
        )


def print_pg_errors(log: Path) -> None:
    """PostgreSQL's own view of what went wrong (its log: the statements of a deadlock)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = [n for n, line in enumerate(lines) if "ERROR:" in line]
    print(f"PostgreSQL log: {len(errors)} errors")
    for kind in Counter(lines[n].split("ERROR:", 1)[1].strip()[:100] for n in errors).most_common(
        5
    ):
        print(f"  {kind[1]:>5} × {kind[0]}")
    deadlock = next((n for n in errors if "deadlock detected" in lines[n]), None)
    if deadlock is not None:
        print("\n".join(line[:400] for line in lines[deadlock : deadlock + 8]))


def print_background(sync: Sync, webhooks: Webhooks, imported: int, args) -> None:
    """The sync's and the webhooks' figures, once both are done."""
    print("\n-- background work")
    sync.join()
    if sync.failed:
        print(f"CRM sync FAILED: {sync.failed[-1500:]}")
    report("CRM sync: wall time (manage.py sync_crm --full)", sync.wall, "s")
    report("CRM sync: its process's CPU time", sync.cpu, "s")
    report("CRM sync: deals imported", imported, "deals", str(args.sync_deals))
    try:
        counts = json.loads(log_tail(sync.log, 1))["counts"]["Opportunity"]
        print(f"CRM sync's Opportunity counts: {counts}")
    except (ValueError, KeyError):
        print(f"CRM sync's last line: {log_tail(sync.log, 1)}")
    webhooks.join()
    acked = sum(200 <= status < 300 for status in webhooks.statuses)
    report("Stripe webhooks POSTed to /billing/webhooks/stripe/", len(webhooks.statuses), "events")
    report("  acknowledged 2xx", acked, "events", str(args.webhooks))
    report("  acknowledgement p50", median(webhooks.samples), "ms")
    report("  acknowledgement p95", percentile(webhooks.samples, 95), "ms")
    report("  acknowledgement max", max(webhooks.samples), "ms")
    if acked != len(webhooks.statuses):
        print(f"  not acknowledged: {Counter(s for s in webhooks.statuses if not 200 <= s < 300)}")


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (Debian's redis-server package)")
    background = not args.no_background
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dd-load-")))
        os.chmod(tmp, 0o755)  # noqa: S103 - .ci/pg's server runs as "postgres" under it
        env = servers(stack, tmp)
        print(f"machine at start: {machine()}")
        seed(env, tmp, args.book, args.sync_deals)
        people = tmp / "people.json"
        write_people(people, per_role=args.users)

        base = processes(stack, env, tmp, args)
        mode = "with the CRM sync and Stripe webhooks" if background else "alone (--no-background)"
        print(f"\n-- {args.users} people for {args.duration} s, {mode}")
        print(f"the machine's busiest processes as the load starts:\n{busiest_processes()}")

        from dealdesk.models import Deal

        deals_before = Deal.objects.count()
        busy_before, total_before = cpu_busy()
        started, load_epoch = time.monotonic(), time.time()
        sync = webhooks = None
        if background:
            sync = Sync({**env, "CRM_FILE": str(tmp / "sync.json")}, tmp / "sync.log")
            sync.start()
            webhooks = Webhooks(base, args.webhooks, args.duration)
            webhooks.start()
        samples, locust_cpu = run_locust(args, base, tmp, people)
        load_wall = time.monotonic() - started
        busy_after, total_after = cpu_busy()
        print(f"machine at the end of the load: {machine()}")

        overall, errors = print_load(samples, args.duration, load_epoch, tmp)
        busy = 100 * (busy_after - busy_before) / max(1, total_after - total_before)
        report("machine CPU busy during the load (all processes)", busy, "%")
        report("locust's own CPU time (same machine)", locust_cpu, "s")
        if background:
            print_background(sync, webhooks, Deal.objects.count() - deals_before, args)
        drain(args.drain_timeout)
        print_pg_errors(tmp / "pg" / "log")
        if background:
            from dealdesk.integrations.models import DeliveryStatus, WebhookEvent

            events = WebhookEvent.objects.filter(vendor="stripe")
            report("  Stripe events stored", events.count(), "events", str(args.webhooks))
            report(
                "  processed",
                events.filter(status=DeliveryStatus.DONE).count(),
                "events",
                str(args.webhooks),
            )
        passed = overall <= P95_TARGET_MS and errors == 0
        print(
            f"\n{'PASS' if passed else 'FAIL'}: page p95 {overall:.0f} ms (target "
            f"<= {P95_TARGET_MS:.0f} ms), {errors} errors (target 0), {args.users} people, "
            f"{args.duration} s, {mode}; wall {load_wall:.0f} s"
        )


if __name__ == "__main__":
    main()

"""Operations: what a production deployment needs beside the product (docs/deploy.md).

/healthz and /metrics for load balancers and Prometheus, the request id carried from a web
request into its log lines and the Celery tasks it enqueues, JSON logs, the beat heartbeat,
and the checks on Celery's settings for money paths.
"""

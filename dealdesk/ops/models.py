from django.db import models


class Heartbeat(models.Model):
    """When a periodic process last proved it runs: beat sends `ops.beat_heartbeat` every
    minute and a worker writes the time here, so /healthz can tell a scheduler that stopped
    (docs/deploy.md). A row per process name; a handful of rows, ever."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"

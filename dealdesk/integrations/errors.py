"""The one error type every vendor integration raises (CRM, clause extraction, e-sign, billing).

`retryable` decides what happens next: a retryable failure (network, timeout, 429, 5xx) is
tried again with backoff; a permanent one (4xx, bad data, refused) goes to the dead-letter
queue at once, where a person reads `str(error)` and decides.
"""

from kombu.exceptions import OperationalError

# What publishing to the broker raises when it is down or refuses (kombu wraps its
# transport's errors in OperationalError; a socket error may come through as it is).
BROKER_ERRORS = (OperationalError, OSError)


class IntegrationError(Exception):
    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        # Seconds the vendor asked us to wait (an HTTP Retry-After), honoured by the backoff.
        self.retry_after = retry_after

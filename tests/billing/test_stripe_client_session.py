"""The Stripe client's HTTP session (`billing.ledger.stripe_client._session`): proxy settings
read from the environment once, when the client is built, not on every call."""

from billing.ledger.stripe_client import _session

PROXY = "http://proxy.example:3128"


def test_the_session_takes_the_proxy_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = _session("https://api.stripe.com")

    assert session.trust_env is False  # requests no longer re-reads env and ~/.netrc per call
    assert session.proxies["https"] == PROXY
    monkeypatch.delenv("HTTPS_PROXY")
    prepared = session.merge_environment_settings(
        "https://api.stripe.com/v1/customers", {}, False, None, None
    )
    assert prepared["proxies"]["https"] == PROXY  # still the proxy read at construction


def test_no_proxy_for_the_api_base_is_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("HTTP_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    assert _session("http://127.0.0.1:12111").proxies == {}
    assert _session("").proxies.get("https") == PROXY  # Stripe's own base: proxied

"""The one place that builds an Elasticsearch client from settings."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from acl.secrets import read_secret
from search.settings import Settings


def make_client(settings: Settings) -> Elasticsearch:
    """Connect with an API key or basic auth and an optional CA certificate.

    Production users point ``QUARRY_ES_URL`` at their own cluster; secrets come from references.
    """
    kwargs: dict[str, object] = {"request_timeout": settings.es_request_timeout_s}
    if settings.es_api_key_ref:
        kwargs["api_key"] = read_secret(settings.es_api_key_ref)
    elif settings.es_username:
        password = read_secret(settings.es_password_ref) if settings.es_password_ref else ""
        kwargs["basic_auth"] = (settings.es_username, password)
    if settings.es_ca_cert:
        kwargs["ca_certs"] = str(settings.es_ca_cert)
    return Elasticsearch(settings.es_url, **kwargs)  # type: ignore[arg-type]

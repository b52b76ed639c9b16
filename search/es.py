"""The one place that builds an Elasticsearch client from settings."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from acl.secrets import read_secret
from search.settings import Settings


def make_client(settings: Settings) -> Elasticsearch:
    """Connect to one node or several of one cluster, with an API key or basic auth.

    Production users point ``QUARRY_ES_URL`` at their own cluster (several nodes separated by
    commas); secrets come from references. A request that cannot connect or times out is
    retried on another node (Quarry's writes are idempotent by id, so a retry never
    duplicates), and a failed node is left out until it answers again. With ``es_sniff`` the
    client also learns the cluster's other nodes.
    """
    kwargs: dict[str, object] = {
        "request_timeout": settings.es_request_timeout_s,
        "max_retries": settings.es_max_retries,
        "retry_on_timeout": True,
    }
    if settings.es_sniff:
        kwargs.update(
            sniff_on_start=True, sniff_on_node_failure=True, min_delay_between_sniffing=10
        )
    if settings.es_api_key_ref:
        kwargs["api_key"] = read_secret(settings.es_api_key_ref)
    elif settings.es_username:
        password = read_secret(settings.es_password_ref) if settings.es_password_ref else ""
        kwargs["basic_auth"] = (settings.es_username, password)
    if settings.es_ca_cert:
        kwargs["ca_certs"] = str(settings.es_ca_cert)
    return Elasticsearch(settings.es_hosts, **kwargs)  # type: ignore[arg-type]

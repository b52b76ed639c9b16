"""The one place that builds an Elasticsearch client from settings, and multi-search."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
from elasticsearch import ApiError, Elasticsearch
from elasticsearch.exceptions import HTTP_EXCEPTIONS
from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer

from acl.secrets import read_secret
from search.settings import Settings

_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
"""Numpy arrays as lists, and non-string keys as strings (as the standard library writes them)."""


class _OrjsonDumps:
    """orjson with ``_ORJSON``'s options, for single bodies and NDJSON lines alike."""

    default: Callable[[Any], Any]  # the serializer's own (dates, UUIDs, numpy scalars)

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default, option=_ORJSON)


class _Orjson(_OrjsonDumps, OrjsonSerializer):
    pass


class _OrjsonNdjson(_OrjsonDumps, NdjsonSerializer):
    """Multi-search and bulk bodies with orjson, like every other body (``make_client``)."""

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


SERIALIZERS = {"application/json": _Orjson(), "application/x-ndjson": _OrjsonNdjson()}
"""orjson rather than the standard library: a search sends a 384-number vector and reads
hundreds of hits, and the standard library's encoding and parsing were a tenth of a query's
CPU in the API process."""


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
        "connections_per_node": settings.es_connections,
        "serializers": SERIALIZERS,
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


def msearch(
    es: Elasticsearch, searches: list[tuple[dict[str, Any], dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Several searches (header, body in REST form) in one round trip, each answered as a
    single search would be: a failed one raises the client's exception for its status."""
    lines: list[dict[str, Any]] = []
    for header, body in searches:
        lines += [header, body]
    answer = es.msearch(searches=lines)
    responses: list[dict[str, Any]] = answer.body["responses"]
    for response in responses:
        error = response.get("error")
        if error is None:
            continue
        status = int(response.get("status", 500))
        reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
        kind = HTTP_EXCEPTIONS.get(status, ApiError)
        raise kind(reason, meta=dataclasses.replace(answer.meta, status=status), body=response)
    return responses

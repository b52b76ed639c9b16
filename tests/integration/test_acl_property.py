"""Property: for random ACLs and users, every hit is readable and every readable match is found."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acl import EVERYONE, AccessControlList, Principal, SourceScope
from connectors.models import Document
from search.engine import SearchEngine
from search.index import IndexManager
from search.pipeline import Pipeline
from search.query import QueryRequest, RetrievalMode
from search.runtime import Runtime
from search.writer import IndexWriter

USERS = ["ann", "ben", "cat", "dan"]
GROUPS = ["GROUP_a", "GROUP_b", "GROUP_c", EVERYONE]
SOURCE = "acl-property"
N_DOCS = 10

acls = st.one_of(
    st.none(),
    st.builds(
        AccessControlList,
        allow_users=st.lists(st.sampled_from(USERS), max_size=2),
        allow_groups=st.lists(st.sampled_from(GROUPS), max_size=2),
        deny_users=st.lists(st.sampled_from(USERS), max_size=1),
        deny_groups=st.lists(st.sampled_from(GROUPS), max_size=1),
    ),
)
principals = st.one_of(
    st.just(Principal.anonymous()),
    st.builds(
        Principal,
        user=st.sampled_from(USERS),
        groups=st.frozensets(st.sampled_from(GROUPS[:3]), max_size=3),
    ),
)


def _own_index(runtime: Runtime, name: str) -> tuple[Pipeline, IndexWriter, SearchEngine]:
    """An index of its own, so the random documents never show up in other tests' results."""
    alias = f"{runtime.settings.index_prefix}-aclprop-{name}"
    IndexManager(runtime.es, alias, space=runtime.embedder.space).ensure()
    writer = IndexWriter(runtime.es, alias)
    return (
        Pipeline(writer, runtime.embedder, None),
        writer,
        SearchEngine(runtime.es, alias, runtime.embedder),
    )


@pytest.fixture(scope="module")
def isolated(runtime: Runtime) -> tuple[Pipeline, IndexWriter, SearchEngine]:
    return _own_index(runtime, "docs")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    doc_acls=st.lists(acls, min_size=N_DOCS, max_size=N_DOCS),
    who=st.lists(principals, min_size=3, max_size=3),
)
def test_hits_are_exactly_the_readable_matches(
    isolated: tuple[Pipeline, IndexWriter, SearchEngine],
    doc_acls: list[AccessControlList | None],
    who: list[Principal],
) -> None:
    pipeline, writer, engine = isolated
    docs = [
        Document(
            id=f"prop:{i}",
            title=f"Shared ledger {i}",
            text=f"quarterly ledger entry number {i}",
            acl=acl,
        )
        for i, acl in enumerate(doc_acls)
    ]
    pipeline.write_batch(SOURCE, docs)
    writer.refresh()
    flt = {"equals_to": {"key": "_data_source_id", "value": SOURCE}}
    for principal in who:
        readable = {d.id for d in docs if d.acl is not None and d.acl.permits(principal)}
        for mode in (RetrievalMode.BM25, RetrievalMode.RERANK):
            response = engine.search(
                QueryRequest.model_validate(
                    {"query_text": "ledger", "page_size": 50, "attribute_filter": flt}
                ),
                principal,
                mode=mode,
            )
            got = {r.id for r in response.results}
            assert got == readable, (principal, mode)
            assert response.total == len(readable)


# --- several data sources whose group names collide -------------------------------------------

SOURCES = ["src-a", "src-b", "src-c"]
"""src-c is a source the principal has no identity records in: only global groups count."""
MIXED_USERS = ["ann", "Ann", "ben"]
COLLIDING = ["GROUP_site_x_SiteConsumer", "group_site_x_siteconsumer", "GROUP_b", EVERYONE]

scoped_acls = st.one_of(
    st.none(),
    st.builds(
        AccessControlList,
        allow_users=st.lists(st.sampled_from(MIXED_USERS), max_size=2),
        allow_groups=st.lists(st.sampled_from(COLLIDING), max_size=2),
        deny_users=st.lists(st.sampled_from(MIXED_USERS), max_size=1),
        deny_groups=st.lists(st.sampled_from(COLLIDING), max_size=1),
    ),
)
group_sets = st.frozensets(st.sampled_from(COLLIDING[:3]), max_size=2)
scoped_principals = st.builds(
    Principal,
    user=st.sampled_from(MIXED_USERS),
    groups=group_sets,
    sources=st.fixed_dictionaries(
        {
            "src-a": st.builds(SourceScope, groups=group_sets, case_insensitive=st.booleans()),
            "src-b": st.builds(SourceScope, groups=group_sets, case_insensitive=st.booleans()),
        }
    ),
)


@pytest.fixture(scope="module")
def multi(runtime: Runtime) -> tuple[Pipeline, IndexWriter, SearchEngine]:
    return _own_index(runtime, "multi")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    doc_acls=st.lists(scoped_acls, min_size=N_DOCS, max_size=N_DOCS),
    who=st.lists(scoped_principals, min_size=3, max_size=3),
)
def test_hits_are_exactly_the_readable_matches_in_every_namespace(
    multi: tuple[Pipeline, IndexWriter, SearchEngine],
    doc_acls: list[AccessControlList | None],
    who: list[Principal],
) -> None:
    pipeline, writer, engine = multi
    docs: dict[str, list[Document]] = {s: [] for s in SOURCES}
    for i, acl in enumerate(doc_acls):
        source = SOURCES[i % len(SOURCES)]
        docs[source].append(
            Document(
                id=f"{source}:{i}",
                title=f"Shared ledger {i}",
                text=f"quarterly ledger entry number {i}",
                acl=acl,
            )
        )
    for source, batch in docs.items():
        pipeline.write_batch(source, batch)
    writer.refresh()
    for principal in who:
        readable = {
            d.id
            for source, batch in docs.items()
            for d in batch
            if d.acl is not None and d.acl.permits(principal, source)
        }
        response = engine.search(
            QueryRequest.model_validate({"query_text": "ledger", "page_size": 50}),
            principal,
            mode=RetrievalMode.BM25,
        )
        assert {r.id for r in response.results} == readable, principal
        assert response.total == len(readable)

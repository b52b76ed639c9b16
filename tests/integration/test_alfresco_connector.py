"""The Alfresco connector against the simulator over real HTTP: what gets indexed, with which
ACL, and how incremental passes, checkpoints and identities keep the index right."""

from __future__ import annotations

import re
import time

from connectors.base import CrawlLimits
from connectors.models import Checkpoint, Document, SyncMode
from devtools.alfresco_sim import Repository

from .alfresco_fixtures import (
    Index,
    assert_acls_match_oracle,
    connector,
    crawl,
    sample,
    simulator,
)

EXCLUDED = ("calendar_event", "discussion_post", "data_list_item", "link", "surf_config_file")


def site_path(repo: Repository, node_id: str) -> str:
    """A node's path relative to its site (``documentLibrary/...``) or ``Shared/...``."""
    with repo.lock:
        node = repo.get(node_id)
        names = [a.name for a in repo.ancestors(node)] + [node.name]
    if "Sites" in names:
        return "/".join(names[names.index("Sites") + 2 :])
    return "/".join(["Shared", *names[names.index("Shared") + 1 :]])


def files_under(repo: Repository, folder_id: str) -> set[str]:
    with repo.lock:
        return {n.id for n in repo.descendants(folder_id)} & repo.indexable_ids()


def test_full_crawl_indexes_what_it_should_with_the_right_acls(monkeypatch) -> None:
    with simulator(sample()) as sim:
        repo = sim.repository
        target = connector(
            sim.base_url, monkeypatch, crawl_comments=True, crawl_system_folders=True
        )
        result = crawl(target)
        index = Index().apply(result.items)
        assert result.checkpoint.complete and not result.failures
        assert index.nodes() == repo.indexable_ids()
        assert_acls_match_oracle(repo, index)
        for doc in result.docs.values():
            assert doc.acl is not None and doc.path is not None
            assert doc.path.split("/")[0] in ("documentLibrary", "wiki", "blog", "Shared")
            if doc.category != "comment":
                assert doc.path == site_path(repo, doc.id.split(":", 1)[1])
        landmarks = repo.landmarks
        for name in EXCLUDED:
            for site in ("engineering", "marketing"):
                assert f"alf:{landmarks[f'{site}.{name}']}" not in result.docs
        comment = result.docs[f"alf:{landmarks['engineering.comment']}"]
        parent = result.docs[f"alf:{landmarks['engineering.commented_file']}"]
        assert comment.category == "comment" and comment.attributes["parent_id"] == parent.id
        assert comment.acl == parent.acl and comment.source_uri == parent.source_uri
        engineering = index.groups["GROUP_engineering"]
        assert {"alice", "heidi"} <= set(engineering.users)
        assert {"GROUP_backend", "GROUP_frontend"} <= set(engineering.groups)


def test_documents_carry_share_links_titles_and_content(monkeypatch) -> None:
    with simulator(sample()) as sim:
        landmarks = sim.repository.landmarks
        docs = crawl(connector(sim.base_url, monkeypatch)).docs
        wiki = docs[f"alf:{landmarks['engineering.wiki_page']}"]
        blog = docs[f"alf:{landmarks['engineering.blog_post']}"]
        pdf = docs[f"alf:{landmarks['engineering.pdf']}"]
        base = f"{sim.base_url}/share/page/site/engineering"
        assert wiki.category == "wiki" and wiki.content_type == "text/html"
        assert wiki.source_uri is not None and wiki.source_uri.startswith(
            f"{base}/wiki-page?title="
        )
        assert blog.category == "blog" and blog.source_uri is not None
        assert blog.source_uri.startswith(f"{base}/blog-postview?postId=")
        with sim.repository.lock:
            post = sim.repository.get(landmarks["engineering.blog_post"])
            assert blog.title == post.properties["cm:title"]
            raw = sim.repository.get(landmarks["engineering.pdf"]).content
        assert pdf.source_uri == (
            f"{base}/document-details?nodeRef=workspace://SpacesStore/{pdf.id.split(':')[1]}"
        )
        assert raw is not None and pdf.content == raw.data and pdf.content_length == len(raw.data)
        assert pdf.content_type == "application/pdf" and pdf.attributes["site"] == "engineering"


def test_entity_filter_and_system_folders(monkeypatch) -> None:
    with simulator(sample()) as sim:
        only_wiki = crawl(connector(sim.base_url, monkeypatch, entity_filter=["wiki"])).docs
        assert only_wiki and {d.category for d in only_wiki.values()} == {"wiki"}
        with_shared = crawl(connector(sim.base_url, monkeypatch, crawl_system_folders=True)).docs
        shared = {str(d.path) for d in with_shared.values() if d.category == "shared"}
        assert shared and all(p.startswith("Shared/") for p in shared)
        without = crawl(connector(sim.base_url, monkeypatch)).docs
        assert not any(d.category in ("shared", "comment") for d in without.values())


def test_inclusion_and_exclusion_patterns(monkeypatch) -> None:
    with simulator(sample()) as sim:
        repo = sim.repository
        include, exclude = (
            [r"\.(md|txt)$", r"^wiki/"],
            [r"^documentLibrary/Runbooks/", r"^wiki/.*2$"],
        )
        target = connector(
            sim.base_url, monkeypatch, inclusion_patterns=include, exclusion_patterns=exclude
        )
        docs = crawl(target).docs
        expected = set()
        for node_id in repo.indexable_ids():
            path = site_path(repo, node_id)
            if path.startswith("Shared/"):
                continue
            if any(re.search(p, path) for p in include) and not any(
                re.search(p, path) for p in exclude
            ):
                expected.add(f"alf:{node_id}")
        assert expected and set(docs) == expected


def test_field_mappings_and_bad_values(monkeypatch) -> None:
    with simulator() as sim:
        repo = sim.repository
        good, bad = repo.landmarks["engineering.html"], repo.landmarks["engineering.pdf"]
        repo.update_properties(
            good, {"acme:pages": "12", "acme:tags": ["x", "y"], "cm:author": "Zed"}
        )
        repo.update_properties(bad, {"acme:pages": "many"})
        mappings = {
            "document_library": [
                {"source": "acme:pages", "target": "pages", "type": "long"},
                {"source": "acme:tags", "target": "tags", "type": "string_list"},
                {"source": "cm:author", "target": "writer"},
            ]
        }
        result = crawl(connector(sim.base_url, monkeypatch, field_mappings=mappings))
        doc = result.docs[f"alf:{good}"]
        assert (doc.attributes["pages"], doc.attributes["tags"]) == (12, ["x", "y"])
        assert doc.attributes["writer"] == "Zed" and doc.authors == ["Zed"]
        assert [f.id for f in result.failures] == [f"alf:{bad}"]
        assert "acme:pages" in result.failures[0].reason
        assert f"alf:{bad}" not in result.docs and result.checkpoint.complete


def test_content_is_cut_at_the_limit_and_keeps_its_true_size(monkeypatch) -> None:
    with simulator(sample()) as sim:
        limits = CrawlLimits(max_content_bytes=16)
        docs = crawl(connector(sim.base_url, monkeypatch), limits=limits).docs
        big = [d for d in docs.values() if (d.content_length or 0) > 16]
        assert big and all(d.content is not None and len(d.content) == 16 for d in big)


def test_incremental_catches_up_with_every_kind_of_change(monkeypatch) -> None:
    with simulator() as sim:
        repo = sim.repository
        marks = repo.landmarks
        target = connector(
            sim.base_url, monkeypatch, crawl_comments=True, crawl_system_folders=True
        )
        first = crawl(target)
        index = Index().apply(first.items)
        security = marks["engineering.security_folder"]
        secured = files_under(repo, security)
        with repo.lock:
            runbooks = next(
                n.id
                for n in repo.child_nodes(marks["engineering.documentLibrary"])
                if n.name == "Runbooks"
            )
        runbook_files = files_under(repo, runbooks)
        added = repo.add_file(
            marks["engineering.documentLibrary"], "new spec.md", "# New", "text/markdown"
        )
        repo.update_content(marks["engineering.html"], "<p>edited</p>")
        repo.move(marks["marketing.unicode_name"], marks["engineering.decisions_folder"])
        repo.rename(marks["engineering.unicode_name"], "renamed.txt")
        repo.delete(marks["engineering.locked_file"])
        repo.delete(marks["engineering.docx"])
        repo.purge(marks["engineering.docx"])
        repo.delete(runbooks)
        repo.set_permissions(
            security, locally_set=[("GROUP_frontend", "Consumer")], inheritance_enabled=False
        )
        new_comment = repo.add_comment(marks["engineering.png"], "looks good")
        repo.delete(marks["engineering.comment"])
        repo.add_group_member("GROUP_finance", "frank")

        second = crawl(target, SyncMode.INCREMENTAL, first.checkpoint)
        index.apply(second.items)
        assert index.nodes() == repo.indexable_ids()
        assert_acls_match_oracle(repo, index)
        changed = {
            added,
            marks["engineering.html"],
            marks["marketing.unicode_name"],
            marks["engineering.unicode_name"],
        }
        reyielded = {i.split(":", 1)[1] for i, d in second.docs.items() if d.category != "comment"}
        assert reyielded == changed | secured  # nothing unchanged was downloaded again
        gone = {marks["engineering.locked_file"], marks["engineering.docx"], *runbook_files}
        assert {f"alf:{n}" for n in gone} <= second.deleted
        assert f"alf:{marks['engineering.comment']}" in second.deleted
        assert second.docs[f"alf:{new_comment}"].category == "comment"
        moved = index.docs[f"alf:{marks['marketing.unicode_name']}"]
        assert moved.path is not None and moved.path.startswith(
            "documentLibrary/Architecture/Decisions/"
        )
        assert "frank" in index.groups["GROUP_finance"].users
        assert not second.checkpoint.complete and not second.failures
        third = crawl(target, SyncMode.INCREMENTAL, second.checkpoint)
        assert not third.docs and not third.deleted


def test_moving_out_of_scope_deletes(monkeypatch) -> None:
    with simulator() as sim:
        repo = sim.repository
        marks = repo.landmarks
        target = connector(
            sim.base_url, monkeypatch, exclusion_patterns=["^documentLibrary/Security/"]
        )
        first = crawl(target)
        leaving, hiding = marks["engineering.html"], marks["engineering.pdf"]
        assert {f"alf:{leaving}", f"alf:{hiding}"} <= set(first.docs)
        repo.move(leaving, repo.user_homes_id)
        repo.move(hiding, marks["engineering.security_folder"])
        second = crawl(target, SyncMode.INCREMENTAL, first.checkpoint)
        assert {f"alf:{leaving}", f"alf:{hiding}"} <= second.deleted


def test_forced_full_and_config_changes(monkeypatch) -> None:
    with simulator(sample()) as sim:
        first = crawl(connector(sim.base_url, monkeypatch))
        forced = crawl(connector(sim.base_url, monkeypatch), SyncMode.FORCED_FULL, first.checkpoint)
        assert set(forced.docs) == set(first.docs) and forced.checkpoint.complete
        narrowed = connector(sim.base_url, monkeypatch, entity_filter=["documentLibrary"])
        after = crawl(narrowed, SyncMode.INCREMENTAL, first.checkpoint)
        assert after.checkpoint.complete  # a config change turns the pass into a full one
        dropped = {i for i, d in first.docs.items() if d.category in ("wiki", "blog")}
        assert dropped and after.deleted == dropped


def test_resuming_a_checkpoint_loses_nothing(monkeypatch) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, checkpoint_every=5, crawl_comments=True)
        full = crawl(target).items
        middle = [i for i in full if isinstance(i, Checkpoint) and not i.complete]
        assert len(middle) >= 2
        cut = full.index(middle[1])
        done = {i.id for i in full[:cut] if isinstance(i, Document)}
        resumed = crawl(target, SyncMode.INCREMENTAL, middle[1])
        assert done | set(resumed.docs) == {i.id for i in full if isinstance(i, Document)}
        assert not done & set(resumed.docs)
        assert resumed.checkpoint.complete  # the resumed pass is the interrupted full one


def test_output_order_does_not_depend_on_thread_timing(monkeypatch) -> None:
    with simulator(sample()) as sim:
        sim.faults.set_latency(1)
        target = connector(sim.base_url, monkeypatch, concurrency=8, crawl_comments=True)
        runs = [
            [(type(i).__name__, getattr(i, "id", None)) for i in crawl(target).items]
            for _ in range(2)
        ]
        assert runs[0] == runs[1]


def test_small_pages_change_nothing(monkeypatch) -> None:
    with simulator(sample()) as sim:
        default = crawl(connector(sim.base_url, monkeypatch, crawl_comments=True))
        paged = crawl(connector(sim.base_url, monkeypatch, crawl_comments=True, page_size=2))
        assert paged.docs == default.docs
        assert {g.group: g for g in paged.groups} == {g.group: g for g in default.groups}
        assert paged.checkpoint.state == default.checkpoint.state | {
            "last_sync": paged.checkpoint.state["last_sync"]
        }


def test_comments_hidden_by_search_lag_are_found_next_time(monkeypatch) -> None:
    with simulator() as sim:
        repo = sim.repository
        target = connector(sim.base_url, monkeypatch, crawl_comments=True, entity_filter=["wiki"])
        first = crawl(target)
        sim.faults.set_search_lag(400)
        comment = repo.add_comment(repo.landmarks["engineering.wiki_page"], "late")
        second = crawl(target, SyncMode.INCREMENTAL, first.checkpoint)
        assert f"alf:{comment}" not in second.docs  # not searchable yet
        time.sleep(0.5)
        third = crawl(target, SyncMode.INCREMENTAL, second.checkpoint)
        assert third.docs[f"alf:{comment}"].category == "comment"  # the overlap window caught it

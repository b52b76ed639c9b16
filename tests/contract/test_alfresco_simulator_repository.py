"""The simulator's repository model: generation, permissions, mutations and the oracle.

These pin the behaviour the end-to-end tests lean on: ``readable_by`` implements Quarry's
rule (deny wins, inheritance stops at a break, groups nest), mutations have the real
server's side effects (moves keep ids, ACL changes touch no timestamp), and a seed always
produces the same repository.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from datetime import UTC, datetime

import pytest
from docx import Document
from pypdf import PdfReader

from devtools.alfresco_sim import (
    GeneratorConfig,
    PermissionEntry,
    Repository,
    format_timestamp,
    generate_repository,
)
from devtools.alfresco_sim.afts import parse
from devtools.alfresco_sim.http_types import ApiError
from devtools.alfresco_sim.model import validate_name
from devtools.alfresco_sim.sample_population import people_from_json

NAME_PATTERN = re.compile(r"^(?!(.*[\"\*\\\>\<\?\/\:\|]+.*)|(.*[\.]?.*[\.]+$)|(.*[ ]+$))")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


@pytest.fixture(scope="module")
def shared_repo() -> Repository:
    """Read-only: tests that mutate build their own."""
    return generate_repository()


@pytest.fixture
def repo() -> Repository:
    return generate_repository()


def mark(repository: Repository, name: str) -> str:
    return repository.landmarks[name]


# -- generation ------------------------------------------------------------------------


def test_same_seed_same_repository_other_seed_other_ids() -> None:
    first, second, other = (
        generate_repository(),
        generate_repository(7),
        generate_repository(seed=8),
    )
    assert first.landmarks == second.landmarks
    assert {
        i: (n.name, n.modified_at, n.content.data if n.content else b"")
        for i, n in first.nodes.items()
    } == {
        i: (n.name, n.modified_at, n.content.data if n.content else b"")
        for i, n in second.nodes.items()
    }
    assert set(first.nodes).isdisjoint(other.nodes)


def test_size_is_configurable() -> None:
    big = generate_repository(GeneratorConfig(sites=6, files_per_site=9))
    assert list(big.sites) == ["engineering", "marketing", "finance", "hr", "legal", "project-1"]
    assert {s.visibility for s in big.sites.values()} == {"PUBLIC", "PRIVATE", "MODERATED"}
    small = generate_repository(files_per_site=9)
    assert len(big.indexable_ids()) > len(small.indexable_ids())


def test_default_repository_shape(shared_repo: Repository) -> None:
    repo = shared_repo
    assert list(repo.sites) == ["engineering", "marketing"]
    assert 50 <= len(repo.indexable_ids()) <= 80
    mimes = {n.content.mime_type for n in repo.nodes.values() if n.content}
    assert mimes >= {
        "text/plain",
        "text/markdown",
        "text/html",
        "text/csv",
        "application/json",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/png",
    }
    for site_id, site in repo.sites.items():
        containers = [c.name for c in repo.child_nodes(site.guid)]
        assert containers[:7] == [
            "documentLibrary",
            "wiki",
            "blog",
            "calendar",
            "discussions",
            "dataLists",
            "links",
        ]
        assert "surf-config" in containers, site_id
    types = {n.node_type for n in repo.nodes.values()}
    assert types >= {
        "ia:calendarEvent",
        "fm:topic",
        "fm:post",
        "dl:dataList",
        "dl:task",
        "lnk:link",
        "app:filelink",
    }
    names = [n.name for n in repo.nodes.values()]
    assert all(NAME_PATTERN.match(name) for name in names)
    assert any("🚀" in name for name in names) and any("é" in name for name in names)
    assert any(" " in name for name in names)


def test_wiki_blog_and_comments(shared_repo: Repository) -> None:
    repo = shared_repo
    wiki = repo.get(mark(repo, "engineering.wiki_page"))
    assert wiki.content and wiki.content.mime_type == "text/html" and wiki.properties["cm:title"]
    assert repo.container_of(wiki) == "wiki"
    blog = repo.get(mark(repo, "marketing.blog_post"))
    assert blog.name.startswith("post-") and blog.properties["cm:title"]
    comments = repo.comments_of(repo.get(mark(repo, "engineering.commented_file")))
    assert comments and all(c.node_type == "fm:post" for c in comments)


def test_indexable_ids_skip_what_a_crawler_must_not_index(shared_repo: Repository) -> None:
    repo = shared_repo
    indexable = repo.indexable_ids()
    for name in (
        "engineering.wiki_page",
        "marketing.blog_post",
        "shared.expense_policy",
        "engineering.png",
    ):
        assert mark(repo, name) in indexable, name
    for name in (
        "engineering.comment",
        "engineering.surf_config_file",
        "engineering.data_list_item",
        "engineering.discussion_post",
        "engineering.calendar_event",
        "engineering.file_link",
    ):
        assert mark(repo, name) not in indexable, name


def test_binary_documents_are_real(shared_repo: Repository) -> None:
    repo = shared_repo
    pdf = repo.get(mark(repo, "engineering.pdf")).content
    assert pdf is not None
    extracted = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert pdf.text.split()[-1].rstrip(".") in extracted
    docx = repo.get(mark(repo, "engineering.security_doc")).content
    assert docx is not None
    paragraphs = " ".join(p.text for p in Document(io.BytesIO(docx.data)).paragraphs)
    assert "Project Nightingale" in paragraphs
    assert zipfile.ZipFile(io.BytesIO(docx.data)).testzip() is None
    png = repo.get(mark(repo, "engineering.png")).content
    assert png is not None and png.data.startswith(b"\x89PNG\r\n\x1a\n") and png.text == ""


# -- permissions and the oracle --------------------------------------------------------


def test_inheritance_stops_at_a_break(shared_repo: Repository) -> None:
    repo = shared_repo
    folder = repo.get(mark(repo, "engineering.security_folder"))
    assert repo.inherited_entries(folder) == []
    doc = repo.get(mark(repo, "engineering.security_doc"))
    assert repo.entries_in_force(doc) == folder.locally_set
    library = repo.get(mark(repo, "engineering.documentLibrary"))
    assert PermissionEntry(
        "GROUP_site_engineering_SiteConsumer", "SiteConsumer"
    ) in repo.entries_in_force(library)


@pytest.mark.parametrize(
    ("landmark", "readers", "non_readers"),
    [
        ("engineering.security_doc", {"alice", "bob"}, {"carol", "frank", "dave", "admin"}),
        ("engineering.salary_bands", {"alice", "carol", "frank"}, {"bob", "dave"}),
        ("engineering.decision_record", {"alice", "bob", "carol"}, {"frank", "grace"}),
        (
            "engineering.pdf",
            {"alice", "bob", "carol", "frank", "heidi"},
            {"dave", "erin", "grace", "admin"},
        ),
        ("marketing.pdf", {"dave", "erin", "grace", "frank", "admin", "alice"}, set()),
        ("marketing.competitor_analysis", {"dave", "grace", "alice"}, {"frank"}),
        ("marketing.embargo_doc", {"dave", "erin"}, {"alice", "grace", "frank"}),
        ("shared.expense_policy", {"grace"}, {"alice", "dave", "admin"}),
        ("shared.holiday_calendar", {"grace", "frank", "admin"}, set()),
    ],
)
def test_readable_by_follows_quarrys_rule(
    shared_repo: Repository, landmark: str, readers: set[str], non_readers: set[str]
) -> None:
    node_id = mark(shared_repo, landmark)
    for user in readers:
        assert node_id in shared_repo.readable_by(user), (landmark, user)
    for user in non_readers:
        assert node_id not in shared_repo.readable_by(user), (landmark, user)


def test_unknown_users_get_only_what_everyone_gets(shared_repo: Repository) -> None:
    readable = shared_repo.readable_by("stranger")
    assert mark(shared_repo, "marketing.pdf") in readable
    assert mark(shared_repo, "engineering.pdf") not in readable


def test_admin_bypasses_acls_in_the_api_only(shared_repo: Repository) -> None:
    node = shared_repo.get(mark(shared_repo, "engineering.security_doc"))
    assert shared_repo.can_read("admin", node) and not shared_repo.can_read("carol", node)
    assert node.id not in shared_repo.readable_by("admin")


def test_denied_wins_over_any_grant(repo: Repository) -> None:
    doc = mark(repo, "engineering.pdf")
    assert doc in repo.readable_by("carol")
    repo.set_permissions(
        doc, locally_set=[("carol", "Coordinator"), ("GROUP_frontend", "Read", "DENIED")]
    )
    assert doc not in repo.readable_by("carol")
    assert doc in repo.readable_by("bob")
    folder = repo.get(doc).parent_id
    assert folder is not None
    repo.set_permissions(doc, locally_set=[("frank", "Coordinator")])
    repo.set_permissions(folder, locally_set=[("GROUP_contractors", "Consumer", "DENIED")])
    assert doc not in repo.readable_by("frank")
    repo.set_permissions(doc, inheritance_enabled=False)
    assert doc in repo.readable_by("frank") and doc not in repo.readable_by("carol")


def test_group_nesting_grants_and_revokes(repo: Repository) -> None:
    doc = mark(repo, "engineering.security_doc")
    assert doc not in repo.readable_by("carol")
    repo.add_group("GROUP_platform", "Platform", parent_ids=["GROUP_backend"])
    repo.add_group_member("GROUP_platform", "carol")
    assert doc in repo.readable_by("carol")
    repo.remove_group_member("GROUP_platform", "carol")
    assert doc not in repo.readable_by("carol")
    with pytest.raises(ValueError, match="cycle"):
        repo.add_group_member("GROUP_platform", "GROUP_engineering")


def test_permission_changes_do_not_touch_timestamps(repo: Repository) -> None:
    folder = mark(repo, "engineering.security_folder")
    subtree = [repo.get(folder), *repo.descendants(folder)]
    before = {n.id: n.modified_at for n in subtree}
    assert mark(repo, "engineering.security_doc") not in repo.readable_by("carol")
    repo.set_permissions(folder, inheritance_enabled=True)
    assert {n.id: n.modified_at for n in subtree} == before
    assert mark(repo, "engineering.security_doc") in repo.readable_by("carol")


# -- mutations -------------------------------------------------------------------------


def test_move_keeps_the_id_and_rename_bumps_modified(repo: Repository) -> None:
    doc_id = mark(repo, "engineering.decision_record")
    doc = repo.get(doc_id)
    modified = doc.modified_at
    target = mark(repo, "engineering.documentLibrary")
    repo.move(doc_id, target)
    assert repo.get(doc_id) is doc and doc.parent_id == target and doc.modified_at == modified
    assert doc_id in {c.id for c in repo.child_nodes(target)}
    repo.rename(doc_id, "ADR-007 (superseded).md")
    assert doc.name == "ADR-007 (superseded).md" and doc.modified_at > modified
    with pytest.raises(ValueError):
        repo.move(target, mark(repo, "engineering.security_folder"))
    clash = repo.child_nodes(target)[0].name
    with pytest.raises(ValueError):
        repo.rename(doc_id, clash)


def test_edits_bump_modified_after_everything_generated(repo: Repository) -> None:
    latest = max(n.modified_at for n in repo.nodes.values())
    doc_id = mark(repo, "marketing.html")
    repo.update_content(doc_id, "<p>Rewritten</p>", by="dave")
    first = repo.get(doc_id).modified_at
    repo.update_properties(doc_id, {"cm:title": "New title"}, by="erin")
    node = repo.get(doc_id)
    assert latest < first < node.modified_at and node.modified_by == "erin"
    assert TIMESTAMP.match(format_timestamp(node.modified_at))
    assert node.content and node.content.text == "Rewritten"


def test_a_clock_in_the_past_still_moves_forward() -> None:
    repo = generate_repository(clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    latest = max(n.modified_at for n in repo.nodes.values())
    new_id = repo.add_file(repo.shared_id, "late.txt", "late")
    assert repo.get(new_id).created_at > latest


def test_delete_restore_and_purge(repo: Repository) -> None:
    folder = mark(repo, "engineering.security_folder")
    inside = mark(repo, "engineering.security_doc")
    repo.delete(folder, by="alice")
    assert folder not in repo.nodes and inside not in repo.nodes
    assert repo.archive[folder].archive is not None and repo.archive[inside].archive is None
    assert inside not in repo.readable_by("bob") and inside not in repo.indexable_ids()
    repo.restore(folder)
    assert inside in repo.readable_by("bob")
    repo.delete(folder)
    repo.purge(folder)
    assert folder not in repo.archive and inside not in repo.archive
    with pytest.raises(KeyError):
        repo.restore(folder)


def test_new_content_and_people(repo: Repository) -> None:
    page = repo.add_wiki_page("marketing", "Launch retro", "<p>Went <b>well</b></p>", by="dave")
    assert repo.get(page).name == "Launch_retro" and repo.container_of(repo.get(page)) == "wiki"
    post = repo.add_blog_post("engineering", "Release notes", "<p>Done</p>")
    comment = repo.add_comment(post, "Nice", by="bob")
    assert repo.comments_of(repo.get(post))[0].id == comment
    repo.add_person("zoe", "zoe-pw", "Zoe", groups=["GROUP_marketing"])
    assert page in repo.readable_by("zoe") and repo.check_password("zoe", "zoe-pw")
    repo.set_person_enabled("zoe", False)
    assert not repo.check_password("zoe", "zoe-pw")
    with pytest.raises(ValueError):
        repo.add_folder(repo.shared_id, "bad/name")


def test_concurrent_mutations_and_reads(repo: Repository) -> None:
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for item in range(20):
                repo.add_file(repo.shared_id, f"w{number}-{item}.txt", "text")
                repo.readable_by("alice")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(1 for n in repo.child_nodes(repo.shared_id) if n.name.startswith("w")) == 80


# -- small parts -----------------------------------------------------------------------


def test_afts_refuses_what_it_cannot_evaluate() -> None:
    for query in ("SITE:", "PATH:'/x'", "cm:name:[a TO b]", "(a", "", 'cm:modified:["2026" TO MAX'):
        with pytest.raises(ApiError) as error:
            parse(query)
        assert error.value.status == 400, query


def test_names_and_entries_are_validated() -> None:
    for bad in ("a/b", "trailing.", "trailing ", 'quo"te', ""):
        with pytest.raises(ValueError):
            validate_name(bad)
    assert PermissionEntry.parse(
        {"authorityId": "bob", "name": "Read", "accessStatus": "DENIED"}
    ).denied
    with pytest.raises(ValueError):
        PermissionEntry.parse(("bob", "Read", "MAYBE"))


def test_users_file_adds_and_replaces_people() -> None:
    extra = people_from_json(
        {
            "users": [
                {"id": "zoe", "password": "z", "groups": ["GROUP_new"]},
                {"id": "alice", "password": "changed"},
            ]
        }
    )
    repo = generate_repository(GeneratorConfig(extra_people=extra))
    assert repo.check_password("zoe", "z") and repo.check_password("alice", "changed")
    assert repo.direct_groups("zoe") == ["GROUP_new"]
    with pytest.raises(ValueError):
        people_from_json([{"id": "nopassword"}])

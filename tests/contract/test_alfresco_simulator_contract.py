"""The Alfresco simulator's HTTP responses against the official API definitions.

Every call goes through ``SimClient``, which validates the body (success or error) against
the response schema the definitions give for that path, method and status, in strict mode
(no field the definitions do not know). The tests also pin the behaviour the connector
relies on: paging, includes, permissions, auth, search, the trashcan and faults.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests

from devtools.alfresco_sim import (
    Faults,
    Repository,
    SimulatorHandle,
    generate_repository,
    start_simulator,
)
from devtools.alfresco_sim.routes import API_BASES, ROUTES
from tests.contract.alfresco_definitions import (
    ALFRESCO_TIMESTAMP,
    REPO_ROOT,
    load,
    operation,
    validate,
)
from tests.contract.alfresco_sim_client import SimClient

AUTH = ("auth", "POST", "/tickets")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator(generate_repository()) as handle:
        yield handle


@pytest.fixture
def fresh() -> Iterator[SimulatorHandle]:
    """A private simulator for tests that change data or faults."""
    with start_simulator(generate_repository()) as handle:
        yield handle


@pytest.fixture(scope="module")
def admin(sim: SimulatorHandle) -> SimClient:
    return SimClient(sim)


def mark(handle: SimulatorHandle, name: str) -> str:
    return handle.repository.landmarks[name]


# -- the simulator invents nothing -----------------------------------------------------


def test_every_served_endpoint_exists_in_the_definitions() -> None:
    for route in ROUTES:
        assert load(route.api)["basePath"] == API_BASES[route.api]
        op = operation(route.api, route.template, route.method)
        assert op["responses"], route.endpoint


def test_the_contract_checker_rejects_off_contract_bodies(sim: SimulatorHandle) -> None:
    good = SimClient(sim).get("/nodes/{nodeId}", path={"nodeId": "-root-"})
    validate("core", "/nodes/{nodeId}", "GET", 200, good)
    broken = [
        {**good["entry"], "modifiedAt": "2026-03-01T10:15:30Z"},
        {**good["entry"], "name": None},
        {**good["entry"], "inventedField": 1},
        {k: v for k, v in good["entry"].items() if k != "nodeType"},
    ]
    for entry in broken:
        with pytest.raises(jsonschema.ValidationError):
            validate("core", "/nodes/{nodeId}", "GET", 200, {"entry": entry})
    with pytest.raises(jsonschema.ValidationError):
        validate("core", "/nodes/{nodeId}", "GET", 404, {"message": "not found"})


def test_unknown_paths_and_methods_get_alfresco_errors(admin: SimClient) -> None:
    response = admin.session.get(admin.url("core", "/nodes/-root-/bogus"))
    assert response.status_code == 404
    assert response.json()["error"]["statusCode"] == 404
    response = admin.session.delete(admin.url("core", "/sites"))
    assert response.status_code == 405
    assert (
        response.json()["error"]["errorKey"] == "framework.exception.UnsupportedResourceOperation"
    )


# -- discovery and authentication ------------------------------------------------------


def test_discovery(admin: SimClient) -> None:
    body = admin.call("discovery", "GET", "/discovery").json()
    assert body["entry"]["repository"]["edition"] == "Community"


def test_tickets_login_use_validate_and_logout(sim: SimulatorHandle) -> None:
    anonymous = SimClient(sim, user=None)
    ticket = anonymous.call(*AUTH, expect=201, json={"userId": "bob", "password": "bob-pw"})
    ticket_id = ticket.json()["entry"]["id"]
    assert ticket.json()["entry"]["userId"] == "bob"
    as_basic = {"Authorization": "Basic " + base64.b64encode(ticket_id.encode()).decode()}
    me = anonymous.get("/people/{personId}", path={"personId": "-me-"}, headers=as_basic)
    assert me["entry"]["id"] == "bob"
    by_param = anonymous.get(
        "/people/{personId}", path={"personId": "-me-"}, params={"alf_ticket": ticket_id}
    )
    assert by_param["entry"]["id"] == "bob"
    valid = anonymous.call("auth", "GET", "/tickets/-me-", headers=as_basic).json()
    assert valid["entry"]["id"] == ticket_id
    anonymous.call("auth", "DELETE", "/tickets/-me-", expect=204, headers=as_basic)
    anonymous.get("/sites", expect=401, headers=as_basic)


def test_login_failures(sim: SimulatorHandle) -> None:
    anonymous = SimClient(sim, user=None)
    anonymous.call(*AUTH, expect=403, json={"userId": "bob", "password": "wrong"})
    anonymous.call(*AUTH, expect=403, json={"userId": "heidi", "password": "heidi-pw"})
    anonymous.call(*AUTH, expect=400, json={"userId": "bob"})
    anonymous.session.auth = ("heidi", "heidi-pw")
    anonymous.get("/sites", expect=401)


def test_every_api_requires_authentication(sim: SimulatorHandle) -> None:
    anonymous = SimClient(sim, user=None)
    for route in ROUTES:
        if not route.authenticated:
            continue
        path = route.template.format(
            nodeId="x", siteId="x", personId="x", groupId="x", containerId="x"
        )
        response = anonymous.session.request(
            route.method, sim.base_url + API_BASES[route.api] + path
        )
        assert response.status_code == 401, route.endpoint
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert response.json()["error"]["statusCode"] == 401
        validate(route.api, route.template, route.method, 401, response.json())


def test_expired_tickets_are_refused(fresh: SimulatorHandle) -> None:
    client = SimClient(fresh, user=None)
    ticket = client.call(*AUTH, expect=201, json={"userId": "alice", "password": "alice-pw"})
    params = {"alf_ticket": ticket.json()["entry"]["id"]}
    client.get("/sites", params=params)
    assert requests.post(fresh.base_url + "/_sim/tickets/expire", timeout=5).json()["expired"] == 1
    client.get("/sites", params=params, expect=401)


# -- sites -----------------------------------------------------------------------------


def test_sites_and_roles(sim: SimulatorHandle) -> None:
    alice = SimClient(sim, "alice")
    sites = {s["id"]: s for s in alice.walk("/sites", 1)}
    assert sites["engineering"]["role"] == "SiteManager"
    assert sites["engineering"]["visibility"] == "PRIVATE"
    assert "role" not in sites["marketing"]
    outsider = SimClient(sim, "grace")
    visible = [e["entry"]["id"] for e in outsider.get("/sites")["list"]["entries"]]
    assert visible == ["marketing"]
    outsider.get("/sites/{siteId}", path={"siteId": "engineering"}, expect=404)
    public = alice.get("/sites", params={"where": "(visibility='PUBLIC')"})["list"]["entries"]
    assert [e["entry"]["id"] for e in public] == ["marketing"]


def test_site_containers(sim: SimulatorHandle, admin: SimClient) -> None:
    containers = admin.get("/sites/{siteId}/containers", path={"siteId": "engineering"})
    names = [e["entry"]["id"] for e in containers["list"]["entries"]]
    assert names == [
        "documentLibrary",
        "wiki",
        "blog",
        "calendar",
        "discussions",
        "dataLists",
        "links",
        "surf-config",
    ]
    library = admin.get(
        "/sites/{siteId}/containers/{containerId}",
        path={"siteId": "engineering", "containerId": "documentLibrary"},
    )
    assert library["entry"]["folderId"] == mark(sim, "engineering.documentLibrary")
    admin.get(
        "/sites/{siteId}/containers/{containerId}",
        path={"siteId": "engineering", "containerId": "nope"},
        expect=404,
    )


# -- nodes -----------------------------------------------------------------------------


def test_node_aliases_and_includes(sim: SimulatorHandle, admin: SimClient) -> None:
    root = admin.get("/nodes/{nodeId}", path={"nodeId": "-root-"}, params={"include": "path"})
    assert root["entry"]["name"] == "Company Home"
    assert root["entry"]["path"]["name"] == "/"
    shared = admin.get("/nodes/{nodeId}", path={"nodeId": "-shared-"})
    assert shared["entry"]["name"] == "Shared"
    home = SimClient(sim, "carol").get("/nodes/{nodeId}", path={"nodeId": "-my-"})
    assert home["entry"]["name"] == "carol"
    by_path = admin.get(
        "/nodes/{nodeId}",
        path={"nodeId": "-root-"},
        params={"relativePath": "Sites/engineering/documentLibrary"},
    )
    assert by_path["entry"]["id"] == mark(sim, "engineering.documentLibrary")
    locked = admin.get(
        "/nodes/{nodeId}",
        path={"nodeId": mark(sim, "engineering.locked_file")},
        params={"include": "path,permissions,isLink,isLocked,allowableOperations,isFavorite"},
    )["entry"]
    assert locked["isLocked"] is True and locked["isLink"] is False
    assert locked["path"]["name"].startswith("/Company Home/Sites/engineering/documentLibrary")
    assert "cm:titled" in locked["aspectNames"] and "cm:title" in locked["properties"]
    assert set(locked["allowableOperations"]) >= {"update", "delete", "updatePermissions"}
    assert ALFRESCO_TIMESTAMP.match(locked["modifiedAt"])
    link = admin.get(
        "/nodes/{nodeId}",
        path={"nodeId": mark(sim, "engineering.file_link")},
        params={"include": "isLink"},
    )
    assert link["entry"]["isLink"] is True
    assert sim.repository.get(link["entry"]["properties"]["cm:destination"]).is_file


def test_node_errors(sim: SimulatorHandle, admin: SimClient) -> None:
    admin.get(
        "/nodes/{nodeId}", path={"nodeId": "00000000-0000-4000-8000-000000000000"}, expect=404
    )
    carol = SimClient(sim, "carol")
    carol.get("/nodes/{nodeId}", path={"nodeId": mark(sim, "engineering.security_doc")}, expect=403)
    admin.get("/nodes/{nodeId}/children", path={"nodeId": mark(sim, "engineering.pdf")}, expect=400)
    admin.get(
        "/nodes/{nodeId}/children", path={"nodeId": "-root-"}, params={"maxItems": 0}, expect=400
    )
    admin.get(
        "/nodes/{nodeId}/children", path={"nodeId": "-root-"}, params={"skipCount": -1}, expect=400
    )
    admin.get(
        "/nodes/{nodeId}/children",
        path={"nodeId": "-root-"},
        params={"where": "(size=1)"},
        expect=400,
    )
    admin.get(
        "/nodes/{nodeId}/children",
        path={"nodeId": "-root-"},
        params={"orderBy": "color"},
        expect=400,
    )


def test_children_paging_is_complete_and_consistent(sim: SimulatorHandle, admin: SimClient) -> None:
    library = {"nodeId": mark(sim, "engineering.documentLibrary")}
    full = admin.get("/nodes/{nodeId}/children", path=library)["list"]
    assert full["pagination"]["maxItems"] == 100 and full["pagination"]["skipCount"] == 0
    assert full["pagination"]["totalItems"] == len(full["entries"]) > 3
    paged = admin.walk("/nodes/{nodeId}/children", 3, path=library)
    assert [e["id"] for e in paged] == [e["entry"]["id"] for e in full["entries"]]
    beyond = admin.get("/nodes/{nodeId}/children", path=library, params={"skipCount": 1000})["list"]
    assert beyond["entries"] == [] and beyond["pagination"]["hasMoreItems"] is False
    folders_first = [e["entry"]["isFolder"] for e in full["entries"]]
    assert folders_first == sorted(folders_first, reverse=True)


def test_children_includes_where_and_order(sim: SimulatorHandle, admin: SimClient) -> None:
    library = {"nodeId": mark(sim, "engineering.documentLibrary")}
    include = "path,properties,aspectNames,permissions,isLink,association,allowableOperations"
    entries = admin.walk("/nodes/{nodeId}/children", 4, path=library, params={"include": include})
    for entry in entries:
        assert entry["association"] == {"assocType": "cm:contains", "isPrimary": True}
        assert entry["path"]["elements"][-1]["id"] == library["nodeId"]
        assert "permissions" in entry and "aspectNames" in entry
    files = admin.walk(
        "/nodes/{nodeId}/children", 50, path=library, params={"where": "(isFile=true)"}
    )
    assert files and all(e["isFile"] for e in files)
    assert all("content" in e and e["content"]["sizeInBytes"] > 0 for e in files)
    folders = admin.walk(
        "/nodes/{nodeId}/children", 50, path=library, params={"where": "(isFolder=true)"}
    )
    assert folders and all(e["isFolder"] for e in folders)
    by_name = admin.get("/nodes/{nodeId}/children", path=library, params={"orderBy": "name DESC"})
    names = [e["entry"]["name"].casefold() for e in by_name["list"]["entries"]]
    assert names == sorted(names, reverse=True)
    source = admin.get("/nodes/{nodeId}/children", path=library, params={"includeSource": "true"})
    assert source["list"]["source"]["id"] == library["nodeId"]


def test_listings_hide_what_the_caller_cannot_read(sim: SimulatorHandle) -> None:
    library = {"nodeId": mark(sim, "engineering.documentLibrary")}
    names = [
        e["name"]
        for e in SimClient(sim, "carol").walk("/nodes/{nodeId}/children", 50, path=library)
    ]
    assert "Architecture" in names and "Security" not in names
    admin_names = [
        e["name"] for e in SimClient(sim).walk("/nodes/{nodeId}/children", 50, path=library)
    ]
    assert "Security" in admin_names


def test_permissions_include(sim: SimulatorHandle, admin: SimClient) -> None:
    def permissions(name: str) -> Any:
        node = admin.get(
            "/nodes/{nodeId}", path={"nodeId": mark(sim, name)}, params={"include": "permissions"}
        )
        return node["entry"]["permissions"]

    site = permissions("marketing.site")
    assert site["isInheritanceEnabled"] is False and "inherited" not in site
    granted = {(p["authorityId"], p["name"]) for p in site["locallySet"]}
    assert ("GROUP_EVERYONE", "SiteConsumer") in granted
    assert ("GROUP_site_marketing_SiteManager", "SiteManager") in granted
    library = permissions("engineering.documentLibrary")
    inherited = {(p["authorityId"], p["name"]) for p in library["inherited"]}
    assert ("GROUP_site_engineering_SiteCollaborator", "SiteCollaborator") in inherited
    assert "GROUP_EVERYONE" not in {a for a, _ in inherited}
    assert "SiteManager" in library["settable"]
    security = permissions("engineering.security_folder")
    assert security["isInheritanceEnabled"] is False and "inherited" not in security
    doc = permissions("engineering.security_doc")
    assert {(p["authorityId"], p["accessStatus"]) for p in doc["inherited"]} == {
        ("GROUP_backend", "ALLOWED"),
        ("GROUP_site_engineering_SiteManager", "ALLOWED"),
    }
    salary = permissions("engineering.salary_bands")
    assert salary["locallySet"] == [
        {"authorityId": "bob", "name": "Read", "accessStatus": "DENIED"}
    ]


def test_content_streams_with_real_types(sim: SimulatorHandle, admin: SimClient) -> None:
    expected = {"pdf": "application/pdf", "png": "image/png", "html": "text/html"}
    for kind, mime in expected.items():
        node_id = mark(sim, f"engineering.{kind}")
        response = admin.call("core", "GET", "/nodes/{nodeId}/content", path={"nodeId": node_id})
        assert response.headers["Content-Type"].split(";")[0] == mime
        assert int(response.headers["Content-Length"]) == len(response.content)
        assert response.content == sim.repository.get(node_id).content.data  # type: ignore[union-attr]
    assert admin.call(
        "core", "GET", "/nodes/{nodeId}/content", path={"nodeId": mark(sim, "engineering.pdf")}
    ).content.startswith(b"%PDF-")
    partial = admin.call(
        "core",
        "GET",
        "/nodes/{nodeId}/content",
        expect=206,
        path={"nodeId": mark(sim, "engineering.png")},
        headers={"Range": "bytes=0-7"},
    )
    assert partial.content == b"\x89PNG\r\n\x1a\n"
    admin.call("core", "GET", "/nodes/{nodeId}/content", expect=400, path={"nodeId": "-root-"})
    SimClient(sim, "carol").call(
        "core",
        "GET",
        "/nodes/{nodeId}/content",
        expect=403,
        path={"nodeId": mark(sim, "engineering.security_doc")},
    )


def test_large_content_is_streamed_in_chunks() -> None:
    repository = generate_repository()
    payload = bytes(range(256)) * 2000
    node_id = repository.add_file(
        repository.shared_id, "big.bin", payload, "application/octet-stream"
    )
    with start_simulator(repository, chunk_size=4096) as handle:
        response = SimClient(handle).call(
            "core", "GET", "/nodes/{nodeId}/content", path={"nodeId": node_id}, stream=True
        )
        chunks = list(response.iter_content(1024))
        assert b"".join(chunks) == payload and len(chunks) > 100


def test_comments(sim: SimulatorHandle, admin: SimClient) -> None:
    comments = admin.get(
        "/nodes/{nodeId}/comments", path={"nodeId": mark(sim, "engineering.commented_file")}
    )
    entries = [e["entry"] for e in comments["list"]["entries"]]
    assert entries and all(e["content"] for e in entries)
    stamps = [e["createdAt"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)


# -- trashcan --------------------------------------------------------------------------


def test_deleted_nodes(fresh: SimulatorHandle) -> None:
    repo = fresh.repository
    doomed = mark(fresh, "engineering.decision_record")
    repo.delete(doomed, by="alice")
    repo.delete(mark(fresh, "marketing.pdf"), by="dave")
    admin = SimClient(fresh)
    trash = admin.walk("/deleted-nodes", 1, params={"include": "path"})
    assert [t["id"] for t in trash] == [mark(fresh, "marketing.pdf"), doomed]
    assert all(ALFRESCO_TIMESTAMP.match(t["archivedAt"]) for t in trash)
    assert trash[1]["archivedByUser"]["id"] == "alice"
    assert [t["id"] for t in SimClient(fresh, "alice").walk("/deleted-nodes", 10)] == [doomed]
    one = admin.get("/deleted-nodes/{nodeId}", path={"nodeId": doomed})
    assert one["entry"]["name"] == "ADR-007 Event sourcing.md"
    admin.get("/nodes/{nodeId}", path={"nodeId": doomed}, expect=404)
    repo.purge(doomed)
    admin.get("/deleted-nodes/{nodeId}", path={"nodeId": doomed}, expect=404)


# -- people and groups -----------------------------------------------------------------


def test_people(sim: SimulatorHandle, admin: SimClient) -> None:
    people = admin.walk("/people", 2, params={"include": "capabilities,aspectNames"})
    ids = [p["id"] for p in people]
    assert ids == sorted(ids) and {"admin", "alice", "heidi"} <= set(ids)
    by_id = {p["id"]: p for p in people}
    assert by_id["admin"]["capabilities"]["isAdmin"] is True
    assert by_id["alice"]["capabilities"]["isAdmin"] is False
    assert by_id["heidi"]["enabled"] is False
    admin.get("/people/{personId}", path={"personId": "nobody"}, expect=404)


def test_groups_and_memberships_are_direct(sim: SimulatorHandle, admin: SimClient) -> None:
    groups = admin.walk("/groups", 5, params={"include": "parentIds,zones,hasSubgroups"})
    by_id = {g["id"]: g for g in groups}
    assert by_id["GROUP_backend"]["parentIds"] == ["GROUP_engineering"]
    assert by_id["GROUP_backend"]["isRoot"] is False
    assert by_id["GROUP_engineering"]["isRoot"] is False  # it is in a site role group
    assert by_id["GROUP_site_engineering"]["isRoot"] is True
    assert by_id["GROUP_engineering"]["hasSubgroups"] is True
    assert "APP.SHARE" in by_id["GROUP_site_engineering_SiteManager"]["zones"]
    roots = admin.get("/groups", params={"where": "(isRoot=true)", "maxItems": 100})["list"][
        "entries"
    ]
    assert "GROUP_backend" not in {e["entry"]["id"] for e in roots}
    members = admin.walk("/groups/{groupId}/members", 2, path={"groupId": "GROUP_engineering"})
    assert {(m["id"], m["memberType"]) for m in members} == {
        ("alice", "PERSON"),
        ("heidi", "PERSON"),
        ("GROUP_backend", "GROUP"),
        ("GROUP_frontend", "GROUP"),
    }
    only_groups = admin.get(
        "/groups/{groupId}/members",
        path={"groupId": "GROUP_engineering"},
        params={"where": "(memberType='GROUP')"},
    )
    assert {e["entry"]["id"] for e in only_groups["list"]["entries"]} == {
        "GROUP_backend",
        "GROUP_frontend",
    }
    bob_groups = admin.get(
        "/people/{personId}/groups", path={"personId": "bob"}, params={"include": "parentIds"}
    )
    assert [e["entry"]["id"] for e in bob_groups["list"]["entries"]] == ["GROUP_backend"]
    admin.get(
        "/groups/{groupId}",
        path={"groupId": "GROUP_backend"},
        params={"include": "description,zones"},
    )
    admin.get("/groups/{groupId}/members", path={"groupId": "GROUP_nope"}, expect=404)
    admin.get("/groups/{groupId}", path={"groupId": "GROUP_nope"}, expect=404)


# -- search ----------------------------------------------------------------------------


def test_search_modified_since_by_site_and_type(sim: SimulatorHandle, admin: SimClient) -> None:
    repo = sim.repository
    since = "2026-02-01T00:00:00"
    query = f'SITE:"engineering" AND TYPE:"cm:content" AND cm:modified:["{since}" TO MAX]'
    body = admin.search(
        {"query": {"query": query}, "paging": {"maxItems": 5}, "include": ["path", "properties"]}
    )
    pagination = body["list"]["pagination"]
    expected = {
        n.id
        for n in repo.nodes.values()
        if n.is_file
        and repo.site_id_of(n) == "engineering"
        and n.modified_at.isoformat() >= "2026-02-01"
    }
    assert pagination["totalItems"] == len(expected) > 5 and pagination["hasMoreItems"] is True
    found: list[str] = []
    while True:
        page = admin.search(
            {"query": {"query": query}, "paging": {"maxItems": 5, "skipCount": len(found)}}
        )["list"]
        found += [e["entry"]["id"] for e in page["entries"]]
        if not page["pagination"]["hasMoreItems"]:
            break
    assert sorted(found) == sorted(expected)
    assert all(e["entry"]["search"]["score"] > 0 for e in body["list"]["entries"])
    assert body["list"]["context"]["consistency"]["lastTxId"] > 0


def test_search_query_forms(sim: SimulatorHandle, admin: SimClient) -> None:
    def ids(query: str, **extra: object) -> set[str]:
        body = admin.search({"query": {"query": query}, "paging": {"maxItems": 1000}, **extra})
        return {e["entry"]["id"] for e in body["list"]["entries"]}

    library = mark(sim, "engineering.documentLibrary")
    under = ids(f'ANCESTOR:"workspace://SpacesStore/{library}"')
    assert mark(sim, "engineering.security_doc") in under
    assert mark(sim, "engineering.wiki_page") not in under
    folders = ids('TYPE:"cm:folder" AND SITE:"marketing"')
    assert all(sim.repository.get(i).is_folder for i in folders)
    either = ids('SITE:"engineering" OR SITE:"marketing"')
    assert ids('SITE:"engineering"') | ids('SITE:"marketing"') == either
    assert mark(sim, "engineering.comment") in ids('TYPE:"cm:content" AND SITE:"engineering"')
    assert ids("cm:modified:[MIN TO NOW]") == ids("TYPE:'cm:cmobject'")
    assert ids("Nightingale") == {mark(sim, "engineering.security_doc")}
    assert ids("nightingale", filterQueries=[{"query": 'SITE:"marketing"'}]) == set()


def test_search_is_permission_filtered(sim: SimulatorHandle) -> None:
    carol = SimClient(sim, "carol")
    assert carol.search({"query": {"query": "Nightingale"}})["list"]["entries"] == []
    alice = SimClient(sim, "alice").search({"query": {"query": "Nightingale"}})
    assert len(alice["list"]["entries"]) == 1


def test_search_rejects_what_it_does_not_support(admin: SimClient) -> None:
    admin.search({"query": {"query": "PATH:'/app:company_home'"}}, expect=400)
    admin.search({"query": {"query": "SITE:x", "language": "cmis"}}, expect=400)
    admin.search({"query": {"query": "SITE:x"}, "include": ["permissions"]}, expect=400)
    admin.search({"query": {"query": "(SITE:x"}}, expect=400)
    admin.search({"query": {"query": "SITE:x"}, "paging": {"maxItems": 0}}, expect=400)
    admin.search({"paging": {}}, expect=400)


# -- faults and accounting -------------------------------------------------------------


def test_429_with_retry_after_then_success(fresh: SimulatorHandle) -> None:
    client = SimClient(fresh)
    rule = fresh.faults.fail_next(2, status=429, endpoint="GET /sites", retry_after_s=3)
    for _ in range(2):
        response = client.call("core", "GET", "/sites", expect=429)
        assert response.headers["Retry-After"] == "3"
    client.get("/sites/{siteId}", path={"siteId": "engineering"})
    client.get("/sites")
    assert rule.fired == 2
    assert fresh.faults.request_counts()["GET /sites"] == 3


def test_scheduled_and_random_errors(fresh: SimulatorHandle) -> None:
    client = SimClient(fresh)
    fresh.faults.add_rule(status=500, at=(2,), every=0, endpoint="GET /people")
    statuses = [
        client.session.get(client.url("core", "/people"), timeout=5).status_code for _ in range(3)
    ]
    assert statuses == [200, 500, 200]
    fresh.faults.clear()
    fresh.faults.configure({"seed": 3, "rules": [{"status": 503, "rate": 0.5}]})
    first = [
        client.session.get(client.url("core", "/people"), timeout=5).status_code for _ in range(20)
    ]
    fresh.faults.configure({"seed": 3, "rules": [{"status": 503, "rate": 0.5}]})
    second = [
        client.session.get(client.url("core", "/people"), timeout=5).status_code for _ in range(20)
    ]
    assert first == second and {200, 503} == set(first)


def test_connection_reset_and_timeout(fresh: SimulatorHandle) -> None:
    client = SimClient(fresh)
    fresh.faults.fail_next(1, kind="reset", endpoint="GET /sites")
    with pytest.raises(requests.ConnectionError):
        client.session.get(client.url("core", "/sites"), timeout=5)
    fresh.faults.add_rule(kind="timeout", at=(1,), hang_s=5, endpoint="GET /people")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        client.session.get(client.url("core", "/people"), timeout=0.3)
    assert time.monotonic() - started < 2
    client.get("/people")
    log = fresh.faults.request_log()
    assert [r.fault for r in log] == ["reset", "timeout", None]


def test_malformed_json_and_latency(fresh: SimulatorHandle) -> None:
    client = SimClient(fresh)
    node_id = mark(fresh, "engineering.documentLibrary")
    fresh.faults.malform(node_id)
    response = client.session.get(
        client.url("core", "/nodes/{nodeId}/children", nodeId=node_id), timeout=5
    )
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    client.get("/nodes/{nodeId}", path={"nodeId": mark(fresh, "engineering.pdf")})
    fresh.faults.set_latency(150)
    started = time.monotonic()
    client.get("/sites")
    assert time.monotonic() - started >= 0.15


def test_search_lag_hides_fresh_changes(fresh: SimulatorHandle) -> None:
    fresh.faults.set_search_lag(60_000)
    repo = fresh.repository
    node_id = repo.add_file(repo.shared_id, "fresh.txt", "zeppelin", "text/plain")
    client = SimClient(fresh)
    assert client.search({"query": {"query": "zeppelin"}})["list"]["entries"] == []
    fresh.faults.set_search_lag(0)
    hits = client.search({"query": {"query": "zeppelin"}})["list"]["entries"]
    assert [h["entry"]["id"] for h in hits] == [node_id]


# -- the control endpoints and the standalone process ----------------------------------


def test_admin_endpoints_drive_the_repository(fresh: SimulatorHandle) -> None:
    control = fresh.base_url + "/_sim"
    result = requests.post(
        control + "/mutations",
        json={
            "op": "add_file",
            "args": {
                "parent_id": fresh.repository.shared_id,
                "name": "note.md",
                "data": "# Hi",
                "mime_type": "text/markdown",
                "by": "alice",
            },
        },
        timeout=5,
    ).json()["result"]
    node = SimClient(fresh).get("/nodes/{nodeId}", path={"nodeId": result})
    assert node["entry"]["content"]["mimeType"] == "text/markdown"
    readable = requests.get(control + "/readable", params={"user": "carol"}, timeout=5).json()
    assert set(readable["nodeIds"]) == fresh.repository.readable_by("carol")
    assert (
        requests.post(
            control + "/mutations", json={"op": "drop_tables", "args": {}}, timeout=5
        ).status_code
        == 400
    )
    assert (
        requests.put(control + "/faults", json={"latency_ms": 5}, timeout=5).json()["latency_ms"]
        == 5
    )
    counts = requests.get(control + "/requests", timeout=5).json()["counts"]
    assert counts == {"GET /nodes/{nodeId}": 1}
    info = requests.get(control + "/info", timeout=5).json()
    assert info["users"]["alice"]["password"] == "alice-pw"


def test_standalone_process_prints_its_base_url() -> None:
    command = [sys.executable, "-m", "devtools.alfresco_sim", "--port", "0", "--seed", "3"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            response = requests.get(
                base_url + "/alfresco/api/discovery", auth=("admin", "admin"), timeout=5
            )
            assert response.status_code == 200
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0


def test_faults_object_can_be_shared_at_start() -> None:
    faults = Faults(latency_ms=0)
    faults.fail_next(1, status=503, retry_after_s=1)
    repository: Repository = generate_repository()
    with start_simulator(repository, faults=faults) as handle:
        assert handle.faults is faults
        SimClient(handle).call("core", "GET", "/sites", expect=503)
        SimClient(handle).get("/sites")

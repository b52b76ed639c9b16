"""Handlers for sites (and their containers), people and groups.

``/people/{id}/groups`` lists direct memberships only and ``/groups/{id}/members`` direct
members: a connector has to resolve nesting itself, which is what the notes ask of it.
Private sites are invisible (404, absent from lists) to non-members, as in Alfresco.
"""

from __future__ import annotations

from devtools.alfresco_sim import params
from devtools.alfresco_sim.http_types import Context, JsonResponse, not_found
from devtools.alfresco_sim.model import Group, Node, Person, Site
from devtools.alfresco_sim.render import Views, list_body, paginate, restrict_fields

GROUP_INCLUDES = ("parentIds", "zones", "hasSubgroups", "description")
PERSON_INCLUDES = ("properties", "aspectNames", "capabilities")


def _visible_site(context: Context) -> Site:
    site_id = context.request.params["siteId"]
    site = context.repository.sites.get(site_id)
    if site is None or not context.repository.site_visible(site, context.request.user):
        raise not_found(site_id)
    return site


def list_sites(context: Context) -> JsonResponse:
    repo, request = context.repository, context.request
    skip_count, max_items = params.paging(request)
    where = params.where_clauses(request, ("visibility", "preset"))
    with repo.lock:
        sites = [
            s
            for s in repo.sites.values()
            if repo.site_visible(s, request.user)
            and where.get("visibility", s.visibility) == s.visibility
            and where.get("preset", s.preset) == s.preset
        ]
        keys = {
            "id": lambda s: s.id,
            "title": lambda s: s.title.casefold(),
            "description": lambda s: s.description.casefold(),
        }
        ordered = params.order_by(request, sites, keys) or sorted(sites, key=keys["title"])
        page, pagination = paginate(ordered, skip_count, max_items)
        views = Views(repo, request.user)
        fields = params.csv(request, "fields")
        entries = [
            restrict_fields(views.site(s, repo.site_role(s.id, request.user)), fields) for s in page
        ]
    return JsonResponse(200, list_body(entries, pagination))


def get_site(context: Context) -> JsonResponse:
    repo = context.repository
    with repo.lock:
        site = _visible_site(context)
        entry = Views(repo, context.request.user).site(
            site, repo.site_role(site.id, context.request.user)
        )
    return JsonResponse(
        200, {"entry": restrict_fields(entry, params.csv(context.request, "fields"))}
    )


def _containers(context: Context, site: Site) -> list[Node]:
    repo = context.repository
    return [c for c in repo.child_nodes(site.guid) if "st:siteContainer" in c.aspects]


def list_containers(context: Context) -> JsonResponse:
    skip_count, max_items = params.paging(context.request)
    with context.repository.lock:
        containers = _containers(context, _visible_site(context))
    page, pagination = paginate(containers, skip_count, max_items)
    return JsonResponse(
        200, list_body(({"id": c.name, "folderId": c.id} for c in page), pagination)
    )


def get_container(context: Context) -> JsonResponse:
    container_id = context.request.params["containerId"]
    with context.repository.lock:
        containers = _containers(context, _visible_site(context))
    found = next((c for c in containers if c.name == container_id), None)
    if found is None:
        raise not_found(container_id)
    return JsonResponse(200, {"entry": {"id": found.name, "folderId": found.id}})


def _person(context: Context) -> Person:
    person_id = context.request.params["personId"]
    if person_id == "-me-":
        person_id = context.request.user
    person = context.repository.people.get(person_id)
    if person is None:
        raise not_found(person_id)
    return person


def list_people(context: Context) -> JsonResponse:
    repo, request = context.repository, context.request
    skip_count, max_items = params.paging(request)
    include = [i for i in params.csv(request, "include") if i in PERSON_INCLUDES]
    with repo.lock:
        people = list(repo.people.values())
        keys = {
            "id": lambda p: p.id,
            "firstName": lambda p: p.first_name.casefold(),
            "lastName": lambda p: p.last_name.casefold(),
        }
        ordered = params.order_by(request, people, keys) or sorted(people, key=keys["id"])
        page, pagination = paginate(ordered, skip_count, max_items)
        views = Views(repo, request.user)
        fields = params.csv(request, "fields")
        entries = [restrict_fields(views.person(p, include), fields) for p in page]
    return JsonResponse(200, list_body(entries, pagination))


def get_person(context: Context) -> JsonResponse:
    with context.repository.lock:
        entry = Views(context.repository, context.request.user).person(_person(context))
    return JsonResponse(
        200, {"entry": restrict_fields(entry, params.csv(context.request, "fields"))}
    )


def _group_page(context: Context, groups: list[Group], allow_display_name: bool) -> JsonResponse:
    repo, request = context.repository, context.request
    skip_count, max_items = params.paging(request)
    allowed = ("isRoot", "zones", "displayName") if allow_display_name else ("isRoot", "zones")
    where = params.where_clauses(request, allowed)
    include = [i for i in params.csv(request, "include") if i in GROUP_INCLUDES]
    views = Views(repo, request.user)
    rendered = [(g, views.group(g, ["parentIds"])) for g in groups]
    selected = [
        g
        for g, full in rendered
        if where.get("isRoot", str(full["isRoot"]).lower()).lower() == str(full["isRoot"]).lower()
        and ("zones" not in where or where["zones"] in g.zones)
        and where.get("displayName", g.display_name) == g.display_name
    ]
    keys = {"id": lambda g: g.id, "displayName": lambda g: g.display_name.casefold()}
    ordered = params.order_by(request, selected, keys) or sorted(selected, key=keys["displayName"])
    page, pagination = paginate(ordered, skip_count, max_items)
    fields = params.csv(request, "fields")
    return JsonResponse(
        200, list_body((restrict_fields(views.group(g, include), fields) for g in page), pagination)
    )


def list_groups(context: Context) -> JsonResponse:
    with context.repository.lock:
        return _group_page(context, list(context.repository.groups.values()), True)


def list_person_groups(context: Context) -> JsonResponse:
    repo = context.repository
    with repo.lock:
        person = _person(context)
        groups = [repo.groups[g] for g in repo.direct_groups(person.id)]
        return _group_page(context, groups, False)


def get_group(context: Context) -> JsonResponse:
    group_id = context.request.params["groupId"]
    include = [i for i in params.csv(context.request, "include") if i in GROUP_INCLUDES]
    with context.repository.lock:
        group = context.repository.groups.get(group_id)
        if group is None:
            raise not_found(group_id)
        entry = Views(context.repository, context.request.user).group(group, include)
    return JsonResponse(
        200, {"entry": restrict_fields(entry, params.csv(context.request, "fields"))}
    )


def list_group_members(context: Context) -> JsonResponse:
    repo, request = context.repository, context.request
    skip_count, max_items = params.paging(request)
    where = params.where_clauses(request, ("memberType",))
    group_id = request.params["groupId"]
    with repo.lock:
        group = repo.groups.get(group_id)
        if group is None:
            raise not_found(group_id)
        members = []
        for member_id in group.members:
            if member_id.startswith("GROUP_"):
                member = {
                    "id": member_id,
                    "displayName": repo.groups[member_id].display_name,
                    "memberType": "GROUP",
                }
            else:
                person = repo.people[member_id]
                member = {
                    "id": member_id,
                    "displayName": person.display_name,
                    "memberType": "PERSON",
                }
            if where.get("memberType", member["memberType"]) == member["memberType"]:
                members.append(member)
    keys = {"id": lambda m: m["id"], "displayName": lambda m: m["displayName"].casefold()}
    ordered = params.order_by(request, members, keys) or sorted(members, key=keys["displayName"])
    page, pagination = paginate(ordered, skip_count, max_items)
    fields = params.csv(request, "fields")
    return JsonResponse(200, list_body((restrict_fields(m, fields) for m in page), pagination))

"""Builds a deterministic sample repository from a seed: same seed, same ids, bytes and dates.

Layout (as a real Alfresco shows it): Company Home holds Data Dictionary, Shared,
Sites and User Homes. Each site folder breaks inheritance and grants its four role groups
(plus GROUP_EVERYONE SiteConsumer when public) and holds documentLibrary, wiki, blog,
calendar, discussions, dataLists, links and surf-config. Generated timestamps lie in the
first half of 2026, so anything a test changes later is "modified since" all of them.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from devtools.alfresco_sim.content_model import (
    ADMINISTRATORS,
    EVERYONE,
    SITE_CONTAINERS,
    SITE_ROLES,
    site_role_group,
)
from devtools.alfresco_sim.model import Content, Node, PermissionEntry, Site
from devtools.alfresco_sim.repository import Repository
from devtools.alfresco_sim.sample_files import EXTENSIONS, render_file
from devtools.alfresco_sim.sample_population import (
    GROUPS,
    PEOPLE,
    SHARED_FILES,
    PersonSpec,
    SiteSpec,
    site_specs,
)
from devtools.alfresco_sim.sample_text import TOPICS, document_text, document_title
from devtools.alfresco_sim.site_extras import SiteExtras
from devtools.alfresco_sim.store import Clock, system_clock
from devtools.alfresco_sim.text_index import plain_text

START: Final = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SPAN: Final = timedelta(days=180)
EXTENSION_CYCLE: Final = ("txt", "md", "html", "csv", "json", "pdf", "docx", "png")
ODD_NAMES: Final = (
    "Café menu \u2013 été 2026",
    "Launch plan 🚀",
    "Übersicht Q3 (final)",
    "日本語 メモ",
    "Budget & forecast 50% draft",
    "O'Brien notes #2",
)


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 7
    sites: int = 2
    files_per_site: int = 20
    wiki_pages_per_site: int = 3
    blog_posts_per_site: int = 3
    shared_files: int = 3
    extra_people: tuple[PersonSpec, ...] = ()


class Timeline:
    """Creation times that advance through the span, and later modification times."""

    def __init__(self, rng: random.Random, expected_nodes: int) -> None:
        self._rng = rng
        self._step = SPAN.total_seconds() / max(expected_nodes, 1)
        self._current = START

    def created(self) -> datetime:
        seconds = self._step * self._rng.uniform(0.3, 1.7)
        self._current += timedelta(milliseconds=int(seconds * 1000))
        return self._current

    def modified(self, created: datetime) -> datetime:
        if self._rng.random() < 0.4:
            return created
        return created + timedelta(milliseconds=self._rng.randint(60_000, 15 * 86_400_000))


def generate_repository(
    config: GeneratorConfig | int | None = None,
    *,
    seed: int | None = None,
    sites: int | None = None,
    files_per_site: int | None = None,
    clock: Clock = system_clock,
) -> Repository:
    """A fresh repository: ``generate_repository()``, ``generate_repository(3)`` (a seed),
    ``generate_repository(seed=3, sites=4)`` or ``generate_repository(GeneratorConfig(...))``.

    ``repository.landmarks`` names the nodes tests care about.
    """
    settings = GeneratorConfig(seed=config) if isinstance(config, int) else config
    settings = settings or GeneratorConfig()
    settings = dataclasses.replace(
        settings,
        seed=settings.seed if seed is None else seed,
        sites=settings.sites if sites is None else sites,
        files_per_site=settings.files_per_site if files_per_site is None else files_per_site,
    )
    repository = Repository(seed=settings.seed, clock=clock)
    _Builder(repository, settings).build()
    return repository


class _Builder:
    def __init__(self, repository: Repository, config: GeneratorConfig) -> None:
        self.repo = repository
        self.config = config
        self.rng = random.Random(f"alfresco-simulator-content:{config.seed}")
        expected = config.sites * (config.files_per_site + 60) + 80
        self.timeline = Timeline(self.rng, expected)
        self.extras = SiteExtras(repository, self.rng, self.node, self.timeline.created)

    def build(self) -> None:
        self._system_folders()
        self._people_and_groups()
        for spec in site_specs(self.config.sites):
            self._site(spec)
        self._shared()

    # -- helpers -------------------------------------------------------------------------

    def node(self, parent_id: str, name: str, node_type: str, by: str, **kwargs: Any) -> Node:
        created = self.timeline.created()
        return self.repo.create_node(
            parent_id,
            name,
            node_type,
            by=by,
            created_at=created,
            modified_at=self.timeline.modified(created),
            **kwargs,
        )

    def folder(self, parent_id: str, name: str, by: str = "System", **kwargs: Any) -> Node:
        return self.node(parent_id, name, "cm:folder", by, **kwargs)

    def unique_name(self, parent_id: str, name: str) -> str:
        taken = {c.name for c in self.repo.child_nodes(parent_id)}
        stem, dot, extension = name.rpartition(".")
        candidate, number = name, 2
        while candidate in taken:
            candidate = f"{stem} ({number}).{extension}" if dot else f"{name} ({number})"
            number += 1
        return candidate

    def file(
        self, parent_id: str, name: str, topic: str, title: str, by: str, lead: str = ""
    ) -> Node:
        extension = name.rpartition(".")[2]
        mime_type = EXTENSIONS[extension]
        text = " ".join(
            filter(None, [lead, document_text(self.rng, topic, self.rng.randint(4, 6))])
        )
        author = self.repo.people[by].display_name if by in self.repo.people else by
        data = render_file(extension, title, text, author)
        if extension == "png":
            search_text = ""
        elif extension in ("pdf", "docx"):
            search_text = f"{title} {text}"
        else:
            search_text = plain_text(data, mime_type)
        return self.node(
            parent_id,
            self.unique_name(parent_id, name),
            "cm:content",
            by,
            aspects=["cm:titled", "cm:author", "cm:versionable"],
            properties={
                "cm:title": title,
                "cm:description": f"{TOPICS[topic][0][0]} material",
                "cm:author": author,
                "cm:versionLabel": "1.0",
                "cm:versionType": "MAJOR",
            },
            content=Content(data, mime_type, search_text),
        )

    # -- structure -----------------------------------------------------------------------

    def _system_folders(self) -> None:
        repo = self.repo
        created = START - timedelta(days=30)
        home = Node(
            id=repo.new_id(),
            name="Company Home",
            node_type="cm:folder",
            parent_id=None,
            created_at=created,
            created_by="System",
            modified_at=created,
            modified_by="System",
            aspects=["cm:auditable", "cm:titled", "app:uifacets"],
            properties={"cm:title": "Company Home", "cm:description": "The company root space"},
        )
        home.locally_set = [PermissionEntry(EVERYONE, "Consumer")]
        repo.insert(home)
        repo.company_home_id = home.id
        self.folder(home.id, "Data Dictionary", properties={"cm:title": "Data Dictionary"})
        repo.shared_id = self.folder(
            home.id, "Shared", locally_set=[(EVERYONE, "Contributor")], aspects=["cm:titled"]
        ).id
        repo.sites_folder_id = self.node(home.id, "Sites", "st:sites", "System").id
        repo.user_homes_id = self.folder(home.id, "User Homes").id
        repo.landmarks.update(
            {"company_home": home.id, "shared": repo.shared_id, "sites": repo.sites_folder_id}
        )

    def _people_and_groups(self) -> None:
        self.repo.add_group(ADMINISTRATORS, "ALFRESCO_ADMINISTRATORS")
        for group_id, display, parents in GROUPS:
            self.repo.add_group(group_id, display, parent_ids=parents)
        people = {person.id: person for person in (*PEOPLE, *self.config.extra_people)}
        for person in people.values():
            for group_id in person.groups:
                if group_id not in self.repo.groups:
                    self.repo.add_group(group_id, group_id.removeprefix("GROUP_"))
            self.repo.add_person(
                person.id,
                person.password,
                person.first_name,
                person.last_name,
                groups=person.groups,
                enabled=person.enabled,
                job_title=person.job_title,
                at=self.timeline.created(),
            )

    def _site(self, spec: SiteSpec) -> None:
        repo = self.repo
        repo.add_site_groups(spec.id)
        for role, members in spec.roles.items():
            for member in members:
                repo.add_group_member(site_role_group(spec.id, role), member)
        entries = [(site_role_group(spec.id, role), role) for role in SITE_ROLES]
        if spec.visibility == "PUBLIC":
            entries.append((EVERYONE, "SiteConsumer"))
        manager = spec.roles["SiteManager"][0]
        site_node = self.node(
            repo.sites_folder_id,
            spec.id,
            "st:site",
            manager,
            aspects=["cm:titled"],
            properties={
                "cm:title": spec.title,
                "cm:description": spec.description,
                "st:sitePreset": "site-dashboard",
                "st:siteVisibility": spec.visibility,
            },
            locally_set=entries,
            inheritance_enabled=False,
        )
        repo.sites[spec.id] = Site(
            spec.id, site_node.id, spec.title, spec.description, spec.visibility
        )
        containers = {}
        for component in SITE_CONTAINERS:
            aspects = ["st:siteContainer", "cm:titled"]
            if component == "surf-config":
                aspects.append("sys:hidden")
            containers[component] = self.folder(
                site_node.id,
                component,
                manager,
                aspects=aspects,
                properties={"st:componentId": component},
            )
        repo.landmarks[f"{spec.id}.site"] = site_node.id
        repo.landmarks[f"{spec.id}.documentLibrary"] = containers["documentLibrary"].id
        authors = self._authors(spec.id)
        library = self._document_library(spec, containers["documentLibrary"].id, authors)
        self.extras.populate(spec, containers, library, authors, self.config)
        for restriction in spec.restrictions:
            target = repo.resolve_relative(containers["documentLibrary"], restriction.path)
            repo.set_permissions(
                target.id,
                locally_set=restriction.entries,
                inheritance_enabled=restriction.inheritance_enabled,
            )
            repo.landmarks[f"{spec.id}.{restriction.landmark}"] = target.id

    def _authors(self, site_id: str) -> list[str]:
        members = [
            p.id
            for p in self.repo.people.values()
            if p.enabled and p.id != "admin" and self.repo.site_role(site_id, p.id) is not None
        ]
        return members or ["admin"]

    def _document_library(self, spec: SiteSpec, library_id: str, authors: list[str]) -> list[Node]:
        folder_ids = {"": library_id}
        for path in spec.folders:
            parent, _, leaf = path.rpartition("/")
            folder_ids[path] = self.folder(
                folder_ids[parent],
                leaf,
                authors[0],
                aspects=["cm:titled"],
                properties={"cm:title": leaf, "cm:description": f"{spec.title}: {leaf}"},
            ).id
        slots = ["", *spec.folders]
        files: list[Node] = []
        for index in range(self.config.files_per_site):
            topic = spec.topics[index % len(spec.topics)]
            title = document_title(topic, index // len(spec.topics))
            extension = EXTENSION_CYCLE[index % len(EXTENSION_CYCLE)]
            odd = index // 4
            base = ODD_NAMES[odd] if index % 4 == 3 and odd < len(ODD_NAMES) else title
            folder = folder_ids[slots[(index * 3) % len(slots)]]
            author = authors[index % len(authors)]
            files.append(self.file(folder, f"{base}.{extension}", topic, title, author))
        for fixed in spec.fixed_files:
            title = fixed.name.rpartition(".")[0]
            node = self.file(
                folder_ids[fixed.folder], fixed.name, fixed.topic, title, authors[0], fixed.lead
            )
            self.repo.landmarks[f"{spec.id}.{fixed.landmark}"] = node.id
            files.append(node)
        return files

    def _shared(self) -> None:
        repo = self.repo
        for index in range(self.config.shared_files):
            landmark, name, topic = SHARED_FILES[index % len(SHARED_FILES)]
            title = name.rpartition(".")[0]
            node = self.file(repo.shared_id, name, topic, title, "admin")
            repo.landmarks.setdefault(f"shared.{landmark}", node.id)
        finance = self.folder(
            repo.shared_id,
            "Finance",
            "grace",
            locally_set=[("GROUP_finance", "Consumer"), ("grace", "Coordinator")],
            inheritance_enabled=False,
        )
        policy = self.file(
            finance.id,
            "Expense policy.docx",
            "travel",
            "Expense policy",
            "grace",
            "The reimbursement ceiling for client dinners is eighty euros per person.",
        )
        repo.landmarks.update(
            {"shared.finance_folder": finance.id, "shared.expense_policy": policy.id}
        )

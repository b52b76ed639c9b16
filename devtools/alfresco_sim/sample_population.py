"""Who and what the generated repository holds: people, groups and per-site blueprints.

Sites beyond the catalogue are ``project-<n>``. Each blueprint names its restrictions
(inheritance breaks and DENIED entries, by folder or file path under documentLibrary), so
that tests can reason about who reads what through the landmarks the generator records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from devtools.alfresco_sim.content_model import ADMINISTRATORS, site_role_group
from devtools.alfresco_sim.model import Visibility

Ace = tuple[str, str, str]
"""(authorityId, permission name, ALLOWED|DENIED)."""


@dataclass(frozen=True)
class PersonSpec:
    id: str
    password: str
    first_name: str
    last_name: str
    job_title: str = ""
    groups: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class FixedFile:
    """A file every seed creates at a known path, recorded as landmark ``<site>.<landmark>``."""

    landmark: str
    folder: str
    name: str
    topic: str
    lead: str = ""
    """A sentence put first, so the file is findable by its words."""


@dataclass(frozen=True)
class Restriction:
    path: str
    """Folder or file path relative to documentLibrary."""
    landmark: str
    entries: tuple[Ace, ...]
    inheritance_enabled: bool = True


@dataclass(frozen=True)
class SiteSpec:
    id: str
    title: str
    description: str
    visibility: Visibility
    topics: tuple[str, ...]
    folders: tuple[str, ...]
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Site role (SiteManager...) -> authorities added to that role group."""
    fixed_files: tuple[FixedFile, ...] = ()
    restrictions: tuple[Restriction, ...] = ()


PEOPLE: Final = (
    PersonSpec("admin", "admin", "Administrator", "", "Administrator", (ADMINISTRATORS,)),
    PersonSpec("alice", "alice-pw", "Alice", "Archer", "Engineering Lead", ("GROUP_engineering",)),
    PersonSpec("bob", "bob-pw", "Bob", "Baker", "Backend Engineer", ("GROUP_backend",)),
    PersonSpec("carol", "carol-pw", "Carol", "Chen", "Frontend Engineer", ("GROUP_frontend",)),
    PersonSpec("dave", "dave-pw", "Dave", "Duarte", "Marketing Manager", ("GROUP_marketing",)),
    PersonSpec("erin", "erin-pw", "Erin", "Évora", "Content Writer", ("GROUP_marketing",)),
    PersonSpec("frank", "frank-pw", "Frank", "Fischer", "Contractor", ("GROUP_contractors",)),
    PersonSpec("grace", "grace-pw", "Grace", "Gómez", "Controller", ("GROUP_finance",)),
    PersonSpec(
        "heidi", "heidi-pw", "Heidi", "Hansen", "Former Engineer", ("GROUP_engineering",), False
    ),
)

GROUPS: Final = (
    ("GROUP_engineering", "Engineering", ()),
    ("GROUP_backend", "Backend", ("GROUP_engineering",)),
    ("GROUP_frontend", "Frontend", ("GROUP_engineering",)),
    ("GROUP_marketing", "Marketing", ()),
    ("GROUP_contractors", "Contractors", ()),
    ("GROUP_finance", "Finance", ()),
)
"""(id, display name, parent groups); parents come first."""


def _engineering() -> SiteSpec:
    manager = site_role_group("engineering", "SiteManager")
    return SiteSpec(
        id="engineering",
        title="Engineering",
        description="Architecture, runbooks and research of the platform team",
        visibility="PRIVATE",
        topics=("database", "kubernetes", "security", "research"),
        folders=(
            "Architecture",
            "Architecture/Decisions",
            "Runbooks",
            "Security",
            "Meeting notes",
            "Meeting notes/2026",
            "Drafts 🚧",
        ),
        roles={
            "SiteManager": ("alice",),
            "SiteCollaborator": ("GROUP_engineering",),
            "SiteConsumer": ("GROUP_contractors",),
        },
        fixed_files=(
            FixedFile(
                "security_doc",
                "Security",
                "Nightingale threat model.docx",
                "security",
                "Project Nightingale's threat model lists every exposed endpoint and its owner.",
            ),
            FixedFile("salary_bands", "", "Salary bands 2026.csv", "hiring"),
            FixedFile(
                "decision_record", "Architecture/Decisions", "ADR-007 Event sourcing.md", "database"
            ),
        ),
        restrictions=(
            Restriction(
                "Security",
                "security_folder",
                (("GROUP_backend", "Collaborator", "ALLOWED"), (manager, "SiteManager", "ALLOWED")),
                inheritance_enabled=False,
            ),
            Restriction(
                "Architecture/Decisions",
                "decisions_folder",
                (("GROUP_contractors", "Read", "DENIED"),),
            ),
            Restriction("Salary bands 2026.csv", "salary_bands", (("bob", "Read", "DENIED"),)),
        ),
    )


def _marketing() -> SiteSpec:
    manager = site_role_group("marketing", "SiteManager")
    return SiteSpec(
        id="marketing",
        title="Marketing",
        description="Campaigns, brand assets and customer stories",
        visibility="PUBLIC",
        topics=("campaign", "customer", "hiring", "office"),
        folders=(
            "Campaigns",
            "Campaigns/Spring 2026",
            "Brand assets",
            "Embargoed launch",
            "Customer stories",
            "Événements & salons",
        ),
        roles={
            "SiteManager": ("dave",),
            "SiteCollaborator": ("GROUP_marketing",),
            "SiteContributor": ("erin",),
        },
        fixed_files=(
            FixedFile(
                "embargo_doc",
                "Embargoed launch",
                "Aurora press release.docx",
                "campaign",
                "The Aurora launch date stays confidential until the press embargo lifts.",
            ),
            FixedFile(
                "competitor_analysis", "Customer stories", "Competitor analysis.pdf", "customer"
            ),
        ),
        restrictions=(
            Restriction(
                "Embargoed launch",
                "embargo_folder",
                ((manager, "SiteManager", "ALLOWED"), ("erin", "Collaborator", "ALLOWED")),
                inheritance_enabled=False,
            ),
            Restriction(
                "Customer stories/Competitor analysis.pdf",
                "competitor_analysis",
                (("GROUP_contractors", "Consumer", "DENIED"),),
            ),
        ),
    )


def _department(
    site_id: str,
    title: str,
    visibility: Visibility,
    topics: tuple[str, ...],
    manager: str,
    collaborators: str,
) -> SiteSpec:
    folders = ("Plans", "Reports", "Reports/Weekly", "Restricted")
    return SiteSpec(
        id=site_id,
        title=title,
        description=f"Working documents of {title}",
        visibility=visibility,
        topics=topics,
        folders=folders,
        roles={"SiteManager": (manager,), "SiteCollaborator": (collaborators,)},
        restrictions=(
            Restriction(
                "Restricted",
                "restricted_folder",
                ((site_role_group(site_id, "SiteManager"), "SiteManager", "ALLOWED"),),
                inheritance_enabled=False,
            ),
            Restriction("Reports", "reports_folder", (("GROUP_contractors", "Read", "DENIED"),)),
        ),
    )


def site_specs(count: int) -> list[SiteSpec]:
    """The first ``count`` blueprints: engineering, marketing, finance, hr, legal, project-n."""
    catalogue = [
        _engineering(),
        _marketing(),
        _department(
            "finance",
            "Finance",
            "MODERATED",
            ("budget", "travel", "privacy"),
            "grace",
            "GROUP_finance",
        ),
        _department(
            "hr", "Human Resources", "PRIVATE", ("onboarding", "hiring", "office"), "dave", "grace"
        ),
        _department("legal", "Legal", "PUBLIC", ("privacy", "customer"), "grace", "GROUP_finance"),
    ]
    topics = ("database", "research", "customer", "budget", "kubernetes", "campaign")
    for number in range(1, max(0, count - len(catalogue)) + 1):
        catalogue.append(
            _department(
                f"project-{number}",
                f"Project {number}",
                "PUBLIC" if number % 2 == 0 else "PRIVATE",
                (topics[number % len(topics)], topics[(number + 2) % len(topics)]),
                "alice",
                "GROUP_engineering",
            )
        )
    return catalogue[:count]


SHARED_FILES: Final = (
    ("holiday_calendar", "Company holiday calendar 2026.txt", "office"),
    ("brand_guidelines", "Brand guidelines.pdf", "campaign"),
    ("wifi_guide", "Office Wi-Fi guide.md", "office"),
    ("privacy_notice", "Privacy notice.html", "privacy"),
)


def people_from_json(data: object) -> tuple[PersonSpec, ...]:
    """Read ``{"users": [{"id", "password", "firstName", "lastName", "jobTitle", "groups",
    "enabled"}]}`` (or the bare list); a user with a built-in id replaces that user."""
    entries = data.get("users", []) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError("a users file holds a list of users, or {'users': [...]}")
    people = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("password"):
            raise ValueError(f"each user needs an id and a password: {entry!r}")
        people.append(
            PersonSpec(
                id=str(entry["id"]),
                password=str(entry["password"]),
                first_name=str(entry.get("firstName", entry["id"])),
                last_name=str(entry.get("lastName", "")),
                job_title=str(entry.get("jobTitle", "")),
                groups=tuple(str(g) for g in entry.get("groups", ())),
                enabled=bool(entry.get("enabled", True)),
            )
        )
    return tuple(people)

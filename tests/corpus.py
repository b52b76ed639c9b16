"""A small fixed corpus with known ACLs, for ranking, filter, facet and access tests."""

from __future__ import annotations

from datetime import UTC, datetime

from acl import EVERYONE, AccessControlList
from connectors.models import Document

SOURCE = "corpus"


def _acl(**kw: list[str]) -> AccessControlList:
    return AccessControlList(**kw)


def documents() -> list[Document]:
    d = datetime
    return [
        Document(
            id="corpus:vacation",
            title="Vacation and paid time off policy",
            text=(
                "Employees accrue twenty days of paid vacation per year. Vacation requests are "
                "submitted to your manager at least two weeks in advance. Unused vacation days "
                "carry over up to five days into the next calendar year."
            ),
            content_type="text/plain",
            category="documentLibrary",
            authors=["hr-team"],
            created_at=d(2024, 1, 10, tzinfo=UTC),
            modified_at=d(2025, 3, 1, tzinfo=UTC),
            attributes={"department": "HR", "pages": 3, "tags": ["policy", "leave"]},
            acl=_acl(allow_groups=[EVERYONE]),
            source_uri="https://intranet.example/hr/vacation",
        ),
        Document(
            id="corpus:salaries",
            title="Executive salary bands 2025",
            text=(
                "Confidential compensation bands for executives, including base salary, bonus "
                "targets and equity grants for the 2025 review cycle."
            ),
            content_type="text/plain",
            category="documentLibrary",
            authors=["cfo"],
            created_at=d(2025, 1, 5, tzinfo=UTC),
            modified_at=d(2025, 1, 20, tzinfo=UTC),
            attributes={"department": "Finance", "pages": 12, "tags": ["confidential"]},
            acl=_acl(allow_groups=["GROUP_executives"], deny_users=["mallory"]),
        ),
        Document(
            id="corpus:kubernetes",
            title="Deploying services on Kubernetes",
            text=(
                "Our services run on a Kubernetes cluster. Each deployment declares resource "
                "requests, liveness probes and a rolling update strategy. Helm charts live in "
                "the platform repository; use kubectl rollout status to follow a deploy."
            ),
            content_type="text/markdown",
            category="wiki",
            authors=["alice"],
            created_at=d(2023, 6, 1, tzinfo=UTC),
            modified_at=d(2025, 5, 2, tzinfo=UTC),
            attributes={"department": "Engineering", "pages": 5, "tags": ["platform", "howto"]},
            acl=_acl(allow_groups=["GROUP_engineering"]),
        ),
        Document(
            id="corpus:incident",
            title="Postmortem: database outage in March",
            text=(
                "On March 3rd the primary PostgreSQL database ran out of disk space, causing a "
                "two hour outage. Root cause: unbounded write-ahead log growth after a replica "
                "fell behind. Action items: alerting on replication lag and disk usage."
            ),
            content_type="text/html",
            category="blog",
            authors=["bob"],
            created_at=d(2025, 3, 5, tzinfo=UTC),
            modified_at=d(2025, 3, 6, tzinfo=UTC),
            attributes={"department": "Engineering", "pages": 2, "tags": ["incident", "database"]},
            acl=_acl(allow_groups=["GROUP_engineering"], deny_groups=["GROUP_contractors"]),
        ),
        Document(
            id="corpus:expenses",
            title="Travel expense reimbursement",
            text=(
                "Submit travel receipts within thirty days. Flights, hotels and meals are "
                "reimbursed according to the per diem table; alcohol is never reimbursed."
            ),
            content_type="text/plain",
            category="documentLibrary",
            authors=["finance-team"],
            created_at=d(2022, 9, 1, tzinfo=UTC),
            modified_at=d(2024, 11, 15, tzinfo=UTC),
            attributes={"department": "Finance", "pages": 4, "tags": ["policy", "travel"]},
            acl=_acl(allow_groups=[EVERYONE], deny_users=["contractor-carl"]),
        ),
        Document(
            id="corpus:roadmap",
            title="Product roadmap for the search platform",
            text=(
                "Next quarter the search team ships hybrid retrieval, semantic reranking and "
                "connectors for document repositories. Enterprise customers asked for "
                "permission-aware results."
            ),
            content_type="text/plain",
            category="wiki",
            authors=["alice", "dana"],
            created_at=d(2025, 2, 1, tzinfo=UTC),
            modified_at=d(2025, 6, 1, tzinfo=UTC),
            attributes={"department": "Product", "pages": 7, "tags": ["roadmap"]},
            acl=_acl(allow_users=["dana"], allow_groups=["GROUP_product"]),
        ),
        Document(
            id="corpus:noacl",
            title="Orphaned document with no access list",
            text="This vacation memo lost its permissions and must never be shown to anyone.",
            content_type="text/plain",
            category="documentLibrary",
            acl=None,
            attributes={"department": "HR"},
        ),
        Document(
            id="corpus:onboarding",
            title="New hire onboarding checklist",
            text=(
                "Welcome! In your first week set up your laptop, enrol in benefits, meet your "
                "onboarding buddy and read the security handbook. Request vacation only after "
                "your first month."
            ),
            content_type="text/plain",
            category="documentLibrary",
            authors=["hr-team"],
            created_at=d(2024, 8, 1, tzinfo=UTC),
            modified_at=d(2024, 8, 2, tzinfo=UTC),
            attributes={"department": "HR", "pages": 2, "tags": ["howto", "leave"]},
            acl=_acl(allow_groups=[EVERYONE]),
        ),
    ]

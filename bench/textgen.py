"""Deterministic English-like documents for benchmarks that must not depend on a dataset."""

from __future__ import annotations

import random

SUBJECTS = [
    "the platform team",
    "our finance department",
    "the security office",
    "each project manager",
    "the support engineers",
    "new employees",
    "the data warehouse",
    "the quarterly review",
    "the incident commander",
    "the procurement process",
    "the legal department",
    "the mobile app",
]
VERBS = [
    "reviews",
    "approves",
    "documents",
    "monitors",
    "migrates",
    "audits",
    "schedules",
    "reports on",
    "deploys",
    "archives",
    "escalates",
    "summarises",
]
OBJECTS = [
    "vendor contracts",
    "database backups",
    "travel expenses",
    "access requests",
    "release notes",
    "customer tickets",
    "budget forecasts",
    "onboarding checklists",
    "compliance evidence",
    "service level objectives",
    "encryption keys",
    "capacity plans",
]
TAILS = [
    "before the end of each month",
    "with the help of an external auditor",
    "according to the updated policy",
    "after every production incident",
    "using the shared dashboard",
    "in the regional offices",
    "for the annual report",
    "whenever a threshold is exceeded",
    "as described in the handbook",
    "during the migration",
]


def sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(TAILS)}."
    )


def document(rng: random.Random, words: int) -> str:
    out: list[str] = []
    count = 0
    while count < words:
        s = sentence(rng)
        out.append(s)
        count += len(s.split())
    return " ".join(out)


def query(rng: random.Random) -> str:
    return f"{rng.choice(OBJECTS)} {rng.choice(TAILS).split()[-1]} {rng.choice(VERBS)}"

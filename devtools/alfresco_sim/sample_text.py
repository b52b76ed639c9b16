"""English prose for generated documents, grouped by topic so searches have real targets.

Each topic has titles and sentences with its own vocabulary (replication, phishing,
per diem...), so a query for a topic word finds that topic's documents and few others.
A few words appear in one generated document only (see ``sample_population``): "Nightingale"
(engineering's restricted threat model), "Aurora" (marketing's embargoed press release) and
"reimbursement ceiling" (Shared/Finance/Expense policy.docx).
"""

from __future__ import annotations

import random
from typing import Final

TOPICS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "database": (
        ("Database migration plan", "Replication runbook", "Index tuning notes"),
        (
            "The PostgreSQL cluster will be migrated to version 16 during the March maintenance window.",
            "Logical replication keeps the reporting replica less than two seconds behind the primary.",
            "Every migration script must be reversible and tested against a copy of production data.",
            "The orders table gained a partial index on unshipped rows, which halved checkout latency.",
            "Vacuum settings were tuned after autovacuum fell behind on the audit log partitions.",
            "Connection pooling through PgBouncer limits each service to forty server connections.",
            "Backups are verified weekly by restoring them into an isolated staging database.",
            "Schema changes are announced in the architecture channel at least three days in advance.",
        ),
    ),
    "kubernetes": (
        ("Cluster upgrade checklist", "Deployment guide", "Capacity planning"),
        (
            "The staging cluster runs three node pools so batch jobs never starve the web tier.",
            "Rolling deployments wait for the readiness probe before shifting traffic to a new pod.",
            "Helm charts are versioned together with the application and reviewed like code.",
            "Cluster upgrades happen one minor version at a time, starting with the control plane.",
            "Horizontal pod autoscaling reacts to request latency rather than raw CPU usage.",
            "Secrets are mounted from the vault sidecar and rotated without restarting workloads.",
            "Each namespace carries resource quotas so a runaway job cannot exhaust the cluster.",
            "The ingress controller terminates TLS and forwards the original client address.",
        ),
    ),
    "security": (
        ("Incident response playbook", "Key rotation procedure", "Phishing awareness"),
        (
            "The hardening programme covers every internet-facing service this year.",
            "Suspected phishing emails should be reported with the button in the mail client.",
            "Signing keys are rotated every ninety days and the old key is revoked a week later.",
            "During an incident the on-call engineer opens a bridge and names a single commander.",
            "Penetration test findings are triaged within two business days of the final report.",
            "Multi-factor authentication is mandatory for the VPN, the wiki and the build servers.",
            "Audit logs are shipped to write-once storage so that nobody can alter them afterwards.",
            "Third-party libraries are scanned nightly and critical vulnerabilities block releases.",
        ),
    ),
    "research": (
        ("Model evaluation report", "Experiment log", "Ranking quality review"),
        (
            "The new ranking model improved mean reciprocal rank by four points on the held-out set.",
            "Annotators labelled two thousand query and document pairs with graded relevance.",
            "We compared lexical retrieval with dense embeddings and a hybrid of the two.",
            "Evaluation runs are reproducible because every dataset snapshot carries a checksum.",
            "The reranker adds eighty milliseconds of latency at the ninety-fifth percentile.",
            "Error analysis showed that acronyms and product codes confuse the embedding model.",
            "Offline metrics agreed with the online experiment, which is not always the case.",
            "The next experiment will test multilingual queries from the support portal.",
        ),
    ),
    "campaign": (
        ("Spring campaign brief", "Social media calendar", "Launch messaging"),
        (
            "The spring launch campaign targets operations managers in mid-sized manufacturers.",
            "Our spring newsletter reached forty thousand subscribers with a strong open rate.",
            "Every campaign asset needs approval from brand review before it is scheduled.",
            "The webinar series will feature three customers explaining their rollout stories.",
            "Paid social spend shifts toward video because it converts better than static images.",
            "Trade show booth graphics must be sent to the printer six weeks before the event.",
            "The landing page test showed that a shorter form doubled the number of sign-ups.",
            "Press briefings are embargoed until the keynote ends on the first day of the summit.",
        ),
    ),
    "customer": (
        ("Customer escalation notes", "Support handbook", "Quarterly satisfaction survey"),
        (
            "Escalated tickets receive a named owner and an update at least once a day.",
            "The satisfaction survey showed that customers value fast answers over long ones.",
            "Renewal risk is flagged when a customer opens more than five urgent tickets a month.",
            "The support handbook explains how to reproduce problems before filing a bug.",
            "Enterprise customers get a quarterly review with their account manager and an engineer.",
            "Refund requests above the regional limit need approval from the finance controller.",
            "Knowledge base articles are reviewed every six months to keep screenshots current.",
            "The chat widget answers common billing questions and hands over to a person when needed.",
        ),
    ),
    "budget": (
        ("Quarterly budget review", "Forecast assumptions", "Headcount plan"),
        (
            "The third quarter forecast assumes flat revenue in Europe and growth in North America.",
            "Capital expenses above fifty thousand euros require a business case and two approvals.",
            "Cloud spending grew faster than revenue, so every team will review idle resources.",
            "Budget owners submit their variance explanations by the fifth working day of the month.",
            "The hiring plan adds six engineers and two account executives next year.",
            "Currency fluctuations reduced reported margins by almost one percentage point.",
            "Invoices are paid on thirty day terms unless a contract states otherwise.",
            "The audit committee meets after each quarter closes to review the accounts.",
        ),
    ),
    "travel": (
        ("Travel expense policy", "Per diem rates", "Booking guidelines"),
        (
            "Employees book flights through the travel portal at least fourteen days ahead.",
            "The hotel allowance depends on the city and is reviewed each year.",
            "Economy class is the default for flights shorter than six hours.",
            "Receipts must be attached to the expense report within thirty days of the trip.",
            "Rail travel is preferred over flying for journeys shorter than four hours.",
            "Per diem rates cover meals and local transport but not entertainment.",
            "Travel to high-risk countries needs approval from the security team in advance.",
            "Corporate cards must not be used for personal purchases under any circumstances.",
        ),
    ),
    "privacy": (
        ("Data retention schedule", "Privacy impact assessment", "GDPR request process"),
        (
            "Personal data is kept only as long as the purpose for which it was collected requires.",
            "Subject access requests are answered within one month as the GDPR demands.",
            "A privacy impact assessment is required before any new processing of health data.",
            "Customer records are pseudonymised before they reach the analytics warehouse.",
            "The retention schedule deletes applicant data six months after a hiring decision.",
            "Processors sign a data processing agreement before they receive any personal data.",
            "Breaches that affect personal data are reported to the authority within seventy-two hours.",
            "Cookies that are not strictly necessary load only after the visitor gives consent.",
        ),
    ),
    "onboarding": (
        ("New starter guide", "First week agenda", "Equipment request"),
        (
            "New starters receive their laptop and badge on the first morning at reception.",
            "Every newcomer is paired with a buddy who answers questions during the first month.",
            "The first week agenda includes security training and a tour of the product.",
            "Accounts for email, chat and the document library are created before the start date.",
            "Managers schedule a check-in at the end of the first, second and fourth week.",
            "The equipment catalogue lists standard laptops, monitors and ergonomic chairs.",
            "Payroll details must be submitted to human resources before the first salary run.",
            "Remote employees receive a home office allowance after their probation period.",
        ),
    ),
    "office": (
        ("Office relocation update", "Facilities notice", "Kitchen rules"),
        (
            "The move to the new office on Harbour Street is planned for the last weekend of June.",
            "Meeting rooms on the third floor can be booked through the calendar resource list.",
            "The espresso machine is descaled every Friday, so please avoid it after four.",
            "Bicycle parking in the basement opens at seven and closes at eight in the evening.",
            "Visitors sign in at reception and must be accompanied by their host at all times.",
            "The fire drill takes place on the second Tuesday of every quarter.",
            "Lost property is kept at reception for two weeks before it is donated.",
            "Quiet zones on the fourth floor are for focused work and phone calls are not allowed.",
        ),
    ),
    "hiring": (
        ("Interview guide", "Hiring scorecard", "Job description template"),
        (
            "Every interview loop includes a structured conversation about past projects.",
            "Interviewers submit their scorecards before discussing a candidate with each other.",
            "Job descriptions list the must-have skills separately from the nice-to-have ones.",
            "Candidates receive feedback within five working days of their final interview.",
            "Take-home exercises are limited to three hours and candidates are paid for them.",
            "Referral bonuses are paid after the new hire completes the probation period.",
            "The hiring committee reviews offers that fall outside the published salary bands.",
            "Diverse interview panels reduce bias and give candidates a broader view of the team.",
        ),
    ),
}


def document_text(rng: random.Random, topic: str, sentences: int = 5) -> str:
    """A few sentences of one topic, in a seeded order."""
    pool = list(TOPICS[topic][1])
    rng.shuffle(pool)
    return " ".join(pool[: max(1, min(sentences, len(pool)))])


def document_title(topic: str, index: int) -> str:
    titles = TOPICS[topic][0]
    return titles[index % len(titles)]

"""An Alfresco Content Services simulator for Quarry's connector tests and demo.

It serves the parts of the Public REST API v1 a connector uses, shaped exactly as the
official definitions (``shared/alfresco-api/``; the contract tests hold it to them):
discovery, tickets, sites and containers, nodes (aliases ``-root-``, ``-shared-``,
``-my-``; children with paging, ``include``, ``where``, ``orderBy``; content; comments),
the trashcan, people and groups, and the Search API with an AFTS subset (``afts``).

Data model (``model``/``repository``): a tree of nodes under Company Home, each with a
type (``cm:folder``, ``cm:content``, ``st:site``, ``fm:post``...), aspects, properties,
optional content (bytes, mime type, indexed text), locally set permission entries and an
``isInheritanceEnabled`` flag. Effective entries are the node's own plus its ancestors'
up to the first inheritance break. Deleted subtrees move to the trashcan. People have
passwords and may be disabled; groups nest. Mutations are thread-safe methods on
``Repository`` (``add_file``, ``move``, ``set_permissions``...) and ``/_sim/mutations``.

Generated repository (``generate_repository``, seed 7 by default; names below are stable,
ids depend on the seed; ``repository.landmarks`` maps names such as
``"engineering.security_folder"`` to ids and ``repository.describe()`` lists everything):

- Users (password): admin (admin), alice (alice-pw), bob (bob-pw), carol (carol-pw),
  dave (dave-pw), erin (erin-pw), frank (frank-pw), grace (grace-pw); heidi (heidi-pw)
  is disabled.
- Groups: GROUP_ALFRESCO_ADMINISTRATORS ⊃ admin; GROUP_engineering ⊃ alice, heidi,
  GROUP_backend (⊃ bob), GROUP_frontend (⊃ carol); GROUP_marketing ⊃ dave, erin;
  GROUP_contractors ⊃ frank; GROUP_finance ⊃ grace; per site GROUP_site_<id> ⊃ the four
  GROUP_site_<id>_Site{Manager,Collaborator,Contributor,Consumer} role groups.
- engineering (PRIVATE): manager alice, collaborators GROUP_engineering, consumers
  GROUP_contractors. ``Security`` breaks inheritance (GROUP_backend + site managers
  only); ``Architecture/Decisions`` DENIES Read to GROUP_contractors; ``Salary bands
  2026.csv`` DENIES Read to bob.
- marketing (PUBLIC, GROUP_EVERYONE SiteConsumer): manager dave, collaborators
  GROUP_marketing, contributor erin. ``Embargoed launch`` breaks inheritance (site
  managers + erin); ``Customer stories/Competitor analysis.pdf`` DENIES GROUP_contractors.
- finance (MODERATED), hr (PRIVATE), legal (PUBLIC), then project-<n>, when more sites
  are asked for; each has a ``Restricted`` folder (managers only) and a ``Reports``
  folder denied to GROUP_contractors.
- Shared (GROUP_EVERYONE Contributor) with a few files and ``Finance`` (inheritance
  broken: GROUP_finance, grace).

Words found in one document only, for ACL-aware search tests: "Nightingale"
(engineering.security_doc), "Aurora" (marketing.embargo_doc), "reimbursement ceiling"
(shared.expense_policy). ``/people/{id}/groups`` and ``/groups/{id}/members`` report
direct memberships only: resolving nesting is the connector's job.

``Repository.readable_by(user)`` is the oracle for "who can read what" under Quarry's
rule (see ``permissions``); ``Repository.indexable_ids()`` is what a crawl should index.
Faults (latency, 429/5xx, resets, hangs, malformed JSON, search lag) and request counts
live in ``faults``. Run it with ``python -m devtools.alfresco_sim`` or
``start_simulator()``.
"""

from devtools.alfresco_sim.faults import FaultRule, Faults
from devtools.alfresco_sim.generator import GeneratorConfig, generate_repository
from devtools.alfresco_sim.model import PermissionEntry, format_timestamp
from devtools.alfresco_sim.repository import Repository
from devtools.alfresco_sim.server import SimulatorHandle, start_simulator

__all__ = [
    "FaultRule",
    "Faults",
    "GeneratorConfig",
    "PermissionEntry",
    "Repository",
    "SimulatorHandle",
    "format_timestamp",
    "generate_repository",
    "start_simulator",
]

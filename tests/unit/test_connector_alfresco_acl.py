"""Alfresco permissions → ``AccessControlList``: inheritance, roles, deny wins, fail closed."""

from __future__ import annotations

import pytest

from acl import EVERYONE, Principal
from connectors.alfresco.acl import MalformedPermissions, fingerprint, to_acl


def _entry(authority: str, name: str, status: str = "ALLOWED") -> dict[str, str]:
    return {"authorityId": authority, "name": name, "accessStatus": status}


def test_missing_permissions_fail_closed() -> None:
    assert to_acl(None) is None


def test_local_and_inherited_entries_apply_while_inheritance_is_on() -> None:
    acl = to_acl(
        {
            "isInheritanceEnabled": True,
            "inherited": [_entry("GROUP_site_eng_SiteConsumer", "SiteConsumer")],
            "locallySet": [_entry("alice", "Coordinator"), _entry("bob", "Write")],
        }
    )
    assert acl is not None
    assert acl.allow_groups == ["GROUP_site_eng_SiteConsumer"]
    assert acl.allow_users == ["alice"]  # Write alone does not include Read
    assert acl.permits(Principal(user="carol", groups=["GROUP_site_eng_SiteConsumer"]))
    assert not acl.permits(Principal(user="bob"))


def test_inheritance_off_drops_inherited_entries() -> None:
    acl = to_acl(
        {
            "isInheritanceEnabled": False,
            "inherited": [_entry(EVERYONE, "Consumer")],
            "locallySet": [_entry("GROUP_hr", "Collaborator")],
        }
    )
    assert acl is not None and acl.allow_groups == ["GROUP_hr"]
    assert not acl.permits(Principal(user="mallory"))


def test_a_denied_read_or_role_wins_over_allows() -> None:
    acl = to_acl(
        {
            "isInheritanceEnabled": True,
            "inherited": [_entry(EVERYONE, "Consumer")],
            "locallySet": [
                _entry("GROUP_contractors", "Read", "DENIED"),
                _entry("eve", "SiteCollaborator", "DENIED"),
                _entry("frank", "All", "DENIED"),
            ],
        }
    )
    assert acl is not None
    assert acl.deny_groups == ["GROUP_contractors"] and acl.deny_users == ["eve", "frank"]
    assert not acl.permits(Principal(user="dan", groups=["GROUP_contractors"]))
    assert not acl.permits(Principal(user="eve"))
    assert not acl.permits(Principal(user="frank"))
    assert acl.permits(Principal(user="dan"))


@pytest.mark.parametrize("permission", ["Delete", "Write", "AddChildren", "WriteContent"])
def test_a_denied_write_only_permission_hides_nothing(permission: str) -> None:
    acl = to_acl(
        {
            "isInheritanceEnabled": True,
            "inherited": [_entry("GROUP_site_eng_SiteManager", "SiteManager")],
            "locallySet": [_entry(EVERYONE, permission, "DENIED")],
        }
    )
    assert acl is not None and acl.deny_groups == [] and acl.deny_users == []
    assert acl.permits(Principal(user="mia", groups=["GROUP_site_eng_SiteManager"]))


@pytest.mark.parametrize("permission", ["ReadContent", "SomeCustomPermission"])
def test_a_denied_part_of_read_or_an_unknown_permission_hides(permission: str) -> None:
    acl = to_acl(
        {
            "isInheritanceEnabled": True,
            "inherited": [_entry(EVERYONE, "Consumer")],
            "locallySet": [_entry("GROUP_contractors", permission, "DENIED")],
        }
    )
    assert acl is not None and acl.deny_groups == ["GROUP_contractors"]
    assert not acl.permits(Principal(user="dan", groups=["GROUP_contractors"]))


def test_no_read_grant_is_an_empty_acl() -> None:
    acl = to_acl({"isInheritanceEnabled": True, "locallySet": [_entry("alice", "Write")]})
    assert acl is not None and acl.is_empty


@pytest.mark.parametrize(
    "permissions",
    [
        "yes",
        {"isInheritanceEnabled": "true"},
        {"locallySet": {"authorityId": "alice"}},
        {"locallySet": [{"name": "Consumer"}]},
        {"locallySet": [_entry("alice", "Consumer", "MAYBE")]},
    ],
)
def test_malformed_permissions_are_rejected(permissions: object) -> None:
    with pytest.raises(MalformedPermissions):
        to_acl(permissions)


def test_fingerprint_tracks_the_acl() -> None:
    one = to_acl({"locallySet": [_entry("alice", "Consumer")]})
    same = to_acl({"locallySet": [_entry("alice", "Consumer")], "inherited": []})
    other = to_acl({"locallySet": [_entry("bob", "Consumer")]})
    assert fingerprint(one) == fingerprint(same) != fingerprint(other)
    assert fingerprint(None) != fingerprint(one)


def test_dynamic_role_authorities_are_not_principals() -> None:
    acl = to_acl({"locallySet": [_entry("ROLE_OWNER", "Coordinator"), _entry("alice", "Consumer")]})
    assert acl is not None and acl.allow_users == ["alice"]

"""What every Quarry package shares and nothing else: the root of the error tree.

This package sits below ``acl``; it imports no other Quarry package.
"""

from quarry.errors import QuarryError

__all__ = ["QuarryError"]

"""The ``quarry`` command line: admin commands in this package, local-stack commands in ``dev/``.

``main`` is imported lazily so that ``import api.cli.common`` stays cheap.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point (``quarry = "api.cli:main"``)."""
    from api.cli.main import main as run

    return run(argv)

"""Commands for the local development stack (``up``, ``down``, ``status``, ``demo``), kept apart
from the administrator's commands."""

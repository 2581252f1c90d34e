"""Message modules, one per area; each defines ``EN`` and ``VI`` dicts with the same keys."""

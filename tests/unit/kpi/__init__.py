"""KPI tests pinned to values computed by hand from docs/kpis.md."""

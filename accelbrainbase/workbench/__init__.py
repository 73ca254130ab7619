"""Problem settings, ``compare`` and reports (table, JSON, PNG)."""
from accelbrainbase.workbench.compare import compare
from accelbrainbase.workbench.report import format_table

__all__ = ["compare", "format_table"]

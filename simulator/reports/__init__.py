"""Reports: charts (matplotlib figures) and the self-contained HTML report."""

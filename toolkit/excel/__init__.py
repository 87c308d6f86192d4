"""Excel itself: the xlwings live backend and the macro-enabled master template (buttons' workbook)."""

"""Checks over Submissions: the rule library (rules), date completion (dates) and the batch check (check)."""

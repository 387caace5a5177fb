"""Decisions: the confidence bands, business-rule outcomes and acceptance rule turned into one answer."""

"""Processed transfers (command side) and transactions (read side) arrive with later issues."""

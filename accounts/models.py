"""Customers (read side) and ledger accounts (command side) arrive with the command-handler issue."""

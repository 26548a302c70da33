"""One Flask blueprint per Operate area."""

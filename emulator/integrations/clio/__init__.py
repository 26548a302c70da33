"""Clio Manage: the firm connects over OAuth, its matters are imported and kept in sync, and messages and
documents added on the Operate side are pushed to the Clio matter (the client-portal behaviour of seed 000)."""

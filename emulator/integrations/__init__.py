"""Integrations with a firm's other systems that the emulated Operate keeps in step with: Clio Manage first.

Each integration is one package: its settings (from `operate.toml [integrations.<name>]`), its connection
(OAuth grant, kept out of snapshots), what it syncs, and nothing of HTTP (that is `emulator/api/integrations.py`).
"""

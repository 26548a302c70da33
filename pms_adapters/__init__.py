"""Practice-management-system (PMS) adapters, and the fakes they are tested against.

`base.PmsAdapter` is the interface the toolkit's own tools use, `registry` names the adapters a linked
service can choose (`adapter = "demo"`), `demo/` and `clio/` are how the product talks to each PMS
(`clio/client.py` is the Clio HTTP client the Clio sync uses), `push.py` sends PMS data to Operate.
`fakes/` holds two complete fake servers, moto-shaped: `fakes/demo_pms/` (the demo finance system) and
`fakes/clio/` (a fake Clio Manage)."""

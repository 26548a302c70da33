"""Talking to Clio Manage's API v4: `client.py` (`ClioClient`, what the Clio sync calls Clio with),
`adapter.py` (`ClioPmsAdapter`, the `PmsAdapter` a linked service with `adapter = "clio"` gets) and
`errors.py` (`ClioError`, shared with the fake Clio in `pms_adapters/fakes/clio/`)."""

"""A fake of Clio Manage's API v4, moto-shaped (models, responses, urls, app): OAuth, matters, stages,
practice areas, contacts, users, activities, bills, communications, documents, webhooks; paging,
`fields`, ETags, versions and rate limits as Clio has them (README.md). The Clio sync's client
(`pms_adapters/clio/client.py`) and `ClioPmsAdapter` are tested against it."""

"""A fake of Clio Manage's API v4 for the Clio PMS adapter: OAuth, matters, stages, practice areas,
contacts, users; paging, `fields`, ETags, versions and rate limits as Clio has them (README.md)."""

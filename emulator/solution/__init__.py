"""Solution folders: loading one (loading.py), its work types, importing a real export, `operate init`."""

"""Practice-management-system (PMS) adapters: `base.PmsAdapter` is the interface, `demo` a fake finance system."""

"""The demo PMS's books, one module per job: `records.py` (the records, the error, the limits),
`matters.py`, `suppliers.py`, `work.py` (time and disbursements), `invoices.py` (and receipts),
`figures.py` (WIP, aged debt, actual fees) and `faults.py` (the fake's injected faults).
`models.DemoPmsBackend` composes them and holds the state they share."""

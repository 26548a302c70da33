"""The fake Clio's records and rules, one module per job: `oauth.py` (codes, tokens, the rate limiter),
`matters.py` (matters and contacts), `billing.py` (activities and bills), `communications.py`
(communications and documents) and `rules.py` (the limits, the OAuth records and the input checks they
share). `models.ClioBackend` composes them and holds the firm's state."""

"""Complete fake servers, built the way moto builds a service (models, responses, urls, app): the demo
PMS (`demo_pms/`, a finance system) and a fake Clio Manage (`clio/`). They import nothing of the emulator
but `emulator.kernel` (tests/test_architecture.py holds them to it), so each can be served alone."""

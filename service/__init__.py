"""Runtime wiring: settings, Temporal client and embedded server, worker, intake, CLI."""

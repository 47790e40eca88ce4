"""The player: presentation model, sans-I/O session core, drivers, CLI."""

"""The long-running loops: the command handler and the projector, with what maps their records."""

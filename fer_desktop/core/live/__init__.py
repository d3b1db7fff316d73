"""The live engine: a frame source, a one-slot mailbox, a capture thread and an inference thread."""

"""Recorded sessions: the folder layout, the recorder and its video writer, reading and analysing."""

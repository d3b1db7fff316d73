"""The Live tab: source picker, live panel, record controls, timeline."""

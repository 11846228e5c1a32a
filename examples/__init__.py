"""Example agents; see docs/agents.md, "Plug in your own agent"."""

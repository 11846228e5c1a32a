"""Example agents; see README, "Plug in your own agent"."""

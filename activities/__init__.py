"""Side effects of the coaching workflow: evidence, drafting, persistence, decisions."""

"""What a reply does, read sentence by sentence: acknowledges the customer, sets a next step,
greets or closes, blames, promises an exception. Pure and deterministic; quotes stay verbatim."""

"""The JSON API and the webhooks."""

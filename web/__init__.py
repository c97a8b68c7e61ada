"""HTTP: help-desk webhooks, the JSON API and the server-rendered pages."""

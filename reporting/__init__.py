"""The pilot report and the charts it shares with the dashboard."""

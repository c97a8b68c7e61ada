"""Help-desk adapters: translate source payloads into canonical TicketEvents. Nothing else."""

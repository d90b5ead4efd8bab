"""THROW-AWAY STUB of the SLA engine (the `sla` branch builds the real one; the lead replaces
this package at merge). It implements the contract in /work/briefs/contract.md naively: a 7x24
clock, the targets of domain.md §5's table, no database."""

"""`reconciler doctor`: the seed's troubleshooting checklist as one command.

`checks` holds the pure parts (results, MSK's port rules, security-group rules, rendering);
`run` makes the calls, through `clients` only (MSK and EC2 facades, the network probes, the
Kafka admin facade).
"""

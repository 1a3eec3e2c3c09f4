"""Provisioning: buying and configuring a number for a client, as a durable job."""

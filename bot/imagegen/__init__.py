"""Seedream image API: request model, streaming client, error mapping."""

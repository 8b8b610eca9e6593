"""discord.py extensions loaded by ImageBot.setup_hook."""
